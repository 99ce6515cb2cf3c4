#include "train/sparse_crossentropy_op.h"

#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad::losses {

Variable sparse_crossentropy_from_logits(const std::vector<int64_t>& ids, const Variable& logits) {
  const Tensor& z = logits.value();
  const int64_t batch = z.dim(0), classes = z.dim(1);
  Tensor lsm = sub(z, max(z, {1}, true));
  lsm = sub(lsm, log(sum(exp(lsm), {1}, true)));
  Tensor out = Tensor::empty({batch});
  for (int64_t i = 0; i < batch; ++i) out.data()[i] = -lsm.data()[i * classes + ids[static_cast<size_t>(i)]];
  return record("sparse_categorical_crossentropy", std::move(out), {logits},
                [lsm, ids, batch, classes](const Tensor& g, GradSink& s) {
                  Tensor grad = exp(lsm);  // softmax
                  for (int64_t i = 0; i < batch; ++i) grad.data()[i * classes + ids[static_cast<size_t>(i)]] -= 1.0f;
                  s.set(0, mul(grad, g.reshape({batch, 1})));
                });
}

}  // namespace tapegrad::losses
