#include "tapegrad/layers/repeat_vector.h"

#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/error.h"

namespace tapegrad {

RepeatVector::RepeatVector(int64_t n, LayerOptions options) : Layer("RepeatVector", std::move(options.name)), n_(n) {
  if (n < 1) fail(label(), "n must be positive, got " + std::to_string(n));
}

Shape RepeatVector::output_shape(const Shape& input_shape) const {
  if (input_shape.rank() != 1)
    fail(label(), "input " + with_batch_str(input_shape) + " has " + std::to_string(input_shape.rank() + 1) +
                      " dims, expects 2 (batch, features)");
  return {n_, input_shape[0]};
}

Variable RepeatVector::forward(const Variable& x, bool /*training*/) {
  // Broadcasting (batch, 1, features) against zeros (1, n, 1) repeats it; add's backward sums
  // the n copies' gradients back.
  return add(reshape(x, {x.dim(0), 1, x.dim(1)}), Variable(Tensor::zeros({1, n_, 1})));
}

}  // namespace tapegrad
