#pragma once
// The dtype the matrix products (matmul, conv and conv_transpose) compute in, per thread:
// float32, or bfloat16 with float32 accumulation (operands rounded to bf16 as the kernels read
// them; outputs, gradients and everything else stay float32). Layers set it from their dtype
// policy (layers/mixed_precision.h) for the length of their call, as torch.autocast does; an op
// records the dtype it ran in, so its backward runs in the same one.
#include "tapegrad/core/dtype.h"

namespace tapegrad {

// This thread's: float32 unless a ComputeDtypeScope says otherwise.
Dtype active_compute_dtype();

class ComputeDtypeScope {
 public:
  explicit ComputeDtypeScope(Dtype dtype);
  ~ComputeDtypeScope();
  ComputeDtypeScope(const ComputeDtypeScope&) = delete;
  ComputeDtypeScope& operator=(const ComputeDtypeScope&) = delete;

 private:
  Dtype previous_;
};

}  // namespace tapegrad
