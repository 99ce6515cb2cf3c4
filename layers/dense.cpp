#include "tapegrad/layers/dense.h"

#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/error.h"

namespace tapegrad {

Dense::Dense(int64_t units, DenseOptions options) : Layer("Dense", options.name), units_(units), options_(std::move(options)) {
  if (units < 1) fail(label(), "units must be positive, got " + std::to_string(units));
  set_activity_regularizer(options_.activity_regularizer);
  if (!options_.dtype.empty()) set_dtype_policy(options_.dtype);
}

Shape Dense::output_shape(const Shape& input_shape) const {
  if (input_shape.rank() < 1 || input_shape[input_shape.rank() - 1] < 1)
    fail(label(), "expects inputs (batch, ..., features) with features >= 1, got " + with_batch_str(input_shape));
  Shape out = input_shape;
  out[out.rank() - 1] = units_;
  return out;
}

void Dense::build_impl(const Shape& input_shape) {
  const int64_t in = input_shape[input_shape.rank() - 1];
  kernel_ = add_weight("kernel", {in, units_}, options_.kernel_initializer, options_.kernel_regularizer,
                       options_.kernel_constraint);
  if (options_.use_bias)
    bias_ = add_weight("bias", {units_}, options_.bias_initializer, options_.bias_regularizer, options_.bias_constraint);
}

Variable Dense::forward(const Variable& x, bool /*training*/) {
  if (x.dim(-1) != kernel_->var.dim(0))
    fail(label(), "input " + x.shape().str() + " has " + std::to_string(x.dim(-1)) + " features in its last dim, expected " +
                      std::to_string(kernel_->var.dim(0)) + " (built for inputs " + with_batch_str(input_shape()) + ")");
  Variable y = matmul(x, kernel_->var);
  if (bias_) y = add(y, bias_->var);
  return options_.activation(y);
}

}  // namespace tapegrad
