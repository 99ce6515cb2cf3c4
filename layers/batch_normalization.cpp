#include "tapegrad/layers/batch_normalization.h"

#include <string>
#include <vector>

#include "tapegrad/autograd/nn_ops.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad {

BatchNormalization::BatchNormalization(BatchNormalizationOptions options)
    : Layer("BatchNormalization", options.name), options_(std::move(options)) {
  if (!(options_.momentum >= 0.0f && options_.momentum <= 1.0f))
    fail(label(), "momentum must be in [0, 1], got " + std::to_string(options_.momentum));
  if (!(options_.epsilon > 0.0f)) fail(label(), "epsilon must be positive, got " + std::to_string(options_.epsilon));
}

int BatchNormalization::channel_axis(const Shape& input_shape) const {
  const int rank = input_shape.rank() + 1;  // with the batch dim
  const int axis = options_.axis < 0 ? options_.axis + rank : options_.axis;
  if (axis < 1 || axis >= rank)
    fail(label(), "axis " + std::to_string(options_.axis) + " is out of range for input " + with_batch_str(input_shape) +
                      " (the batch axis 0 cannot be normalized over)");
  return axis - 1;
}

Shape BatchNormalization::output_shape(const Shape& input_shape) const {
  if (input_shape.rank() < 1) fail(label(), "input " + with_batch_str(input_shape) + " needs a feature axis");
  const int ax = channel_axis(input_shape);
  if (built() && input_shape[ax] != moving_mean_->var.dim(0))
    fail(label(), "input " + with_batch_str(input_shape) + " has " + std::to_string(input_shape[ax]) +
                      " channels on axis " + std::to_string(options_.axis) + ", the layer was built for " +
                      std::to_string(moving_mean_->var.dim(0)) + " (inputs " + with_batch_str(this->input_shape()) + ")");
  return input_shape;
}

void BatchNormalization::build_impl(const Shape& input_shape) {
  const int64_t c = input_shape[channel_axis(input_shape)];
  if (options_.scale)
    gamma_ = add_weight("gamma", {c}, options_.gamma_initializer, options_.gamma_regularizer, options_.gamma_constraint);
  if (options_.center)
    beta_ = add_weight("beta", {c}, options_.beta_initializer, options_.beta_regularizer, options_.beta_constraint);
  moving_mean_ = add_weight("moving_mean", {c}, options_.moving_mean_initializer, nullptr, nullptr, false);
  moving_variance_ = add_weight("moving_variance", {c}, options_.moving_variance_initializer, nullptr, nullptr, false);
}

Variable BatchNormalization::forward(const Variable& x, bool training) {
  const int axis = channel_axis(x.shape().drop(0, 1)) + 1;
  const Variable gamma = gamma_ ? gamma_->var : Variable();
  const Variable beta = beta_ ? beta_->var : Variable();
  if (training && trainable()) {
    BatchNormResult r = batch_norm_train(x, gamma, beta, axis, options_.epsilon, fuse_relu_, residual_ ? *residual_ : Variable(),
                                         options_.synchronized);
    NoGradGuard no_grad;
    const float m = options_.momentum;
    Tensor& mm = moving_mean_->var.value();
    Tensor& mv = moving_variance_->var.value();
    mm.copy_from(add(mul(mm, m), mul(r.mean, 1.0f - m)));
    mv.copy_from(add(mul(mv, m), mul(r.variance, 1.0f - m)));
    return r.y;
  }
  // Inference: an affine map per channel, y = x * k + c with k = gamma / sqrt(moving_var + eps)
  // and c = beta - moving_mean * k; gamma and beta still get gradients (fine-tuning).
  const Tensor inv = div(Tensor::ones(moving_variance_->var.shape()),
                         sqrt(add(moving_variance_->var.value(), options_.epsilon)));
  std::vector<int64_t> bshape(static_cast<size_t>(x.rank()), 1);
  bshape[static_cast<size_t>(axis)] = x.dim(axis);
  const Variable k = gamma.defined() ? mul(gamma, Variable(inv)) : Variable(inv);
  Variable c = neg(mul(k, Variable(moving_mean_->var.value())));
  if (beta.defined()) c = add(c, beta);
  Variable y = add(mul(x, reshape(k, bshape)), reshape(c, bshape));
  if (residual_) {
    if (residual_->shape() != y.shape())
      fail(label(), "the residual " + residual_->shape().str() + " must have the input's shape " + x.shape().str());
    y = add(y, *residual_);
  }
  return fuse_relu_ ? relu(y, ReLUParams{}) : y;
}

Variable BatchNormalization::call_with_relu(const Variable& x, bool training) {
  struct Reset {
    bool& flag;
    ~Reset() { flag = false; }
  };
  fuse_relu_ = true;
  const Reset reset{fuse_relu_};
  return (*this)(x, training);
}

Variable BatchNormalization::call_add_relu(const Variable& x, const Variable& residual, bool training) {
  struct Reset {
    BatchNormalization& layer;
    ~Reset() {
      layer.fuse_relu_ = false;
      layer.residual_ = nullptr;
    }
  };
  fuse_relu_ = true;
  residual_ = &residual;
  const Reset reset{*this};
  return (*this)(x, training);
}

}  // namespace tapegrad
