// matmul: forward and backward. dA = dC B^T, dB = A^T dC; with a 2-D B shared across a batch,
// dB sums over the batch, done as one GEMM over the folded rows. In the thread's compute dtype
// (bfloat16 under a mixed_bfloat16 layer: op "matmul_bf16"), the backward's products too.
#include "tapegrad/autograd/compute_dtype.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad {

Variable matmul(const Variable& a, const Variable& b) {
  const Tensor x = a.value(), y = b.value();
  const Dtype dt = active_compute_dtype();
  const char* op = dt == Dtype::bfloat16 ? "matmul_bf16" : "matmul";
  return record(op, matmul(x, y, false, false, dt), {a, b}, [x, y, dt](const Tensor& g, GradSink& s) {
    if (s.needs(0)) s.set(0, matmul(g, y, false, true, dt));
    if (s.needs(1)) {
      if (y.rank() == 2 && x.rank() > 2) {
        const int64_t k = x.dim(-1), n = g.dim(-1);
        s.set(1, matmul(x.reshape({-1, k}), g.reshape({-1, n}), true, false, dt));
      } else {
        s.set(1, matmul(x, g, true, false, dt));
      }
    }
  });
}

}  // namespace tapegrad
