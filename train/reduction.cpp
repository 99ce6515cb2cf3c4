#include "tapegrad/train/reduction.h"

#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad::losses {

std::string to_string(Reduction r) {
  switch (r) {
    case Reduction::sum_over_batch_size: return "sum_over_batch_size";
    case Reduction::sum: return "sum";
    case Reduction::none: return "none";
  }
  return "?";
}

namespace {

// The weights as a tensor that broadcasts against `shape`, or an error naming both shapes.
Tensor weights_for(const Tensor& w, const Shape& shape, const char* op) {
  if (w.numel() == 1 && w.rank() <= 1) return w.reshape(std::vector<int64_t>{});
  if (w.shape() == shape) return w;
  const int64_t batch = shape.rank() > 0 ? shape[0] : 1;
  const bool per_sample = (w.rank() == 1 && w.dim(0) == batch) || (w.rank() == 2 && w.dim(0) == batch && w.dim(1) == 1);
  if (per_sample && shape.rank() >= 1) {
    std::vector<int64_t> dims(static_cast<size_t>(shape.rank()), 1);
    dims[0] = batch;  // (batch, 1, ..., 1): one weight for every value of a sample
    return w.reshape(dims);
  }
  fail(op, "sample_weight " + w.shape().str() + " does not match the per-sample losses " + shape.str() +
               ": expected a scalar, (" + std::to_string(batch) + ",) or " + shape.str());
}

}  // namespace

Variable reduce_loss(const Variable& per_sample, const Reduce& reduce, const char* op) {
  Variable weighted = per_sample;
  if (reduce.sample_weight.defined())
    weighted = mul(per_sample, Variable(weights_for(reduce.sample_weight, per_sample.shape(), op)));
  switch (reduce.reduction) {
    case Reduction::none: return weighted;
    case Reduction::sum: return sum(weighted);
    case Reduction::sum_over_batch_size:
      // An empty batch gives 0, not NaN (Keras' divide_no_nan).
      if (weighted.numel() == 0) return sum(weighted);
      return mean(weighted);
  }
  fail(op, "unknown reduction");
}

}  // namespace tapegrad::losses
