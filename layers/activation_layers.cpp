#include "tapegrad/layers/activation_layers.h"

#include <string>

#include "tapegrad/autograd/nn_ops.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/error.h"

namespace tapegrad {

ActivationLayer::ActivationLayer(Activation activation, LayerOptions options)
    : Layer("Activation", std::move(options.name)), activation_(std::move(activation)) {}

ReLU::ReLU(ReLUOptions options)
    : Layer("ReLU", options.name),
      relu_{.negative_slope = options.negative_slope, .max_value = options.max_value, .threshold = options.threshold} {
  if (!(options.max_value >= 0.0f)) fail(label(), "max_value must be >= 0, got " + std::to_string(options.max_value));
  if (!(options.negative_slope >= 0.0f))
    fail(label(), "negative_slope must be >= 0, got " + std::to_string(options.negative_slope));
}

Variable ReLU::forward(const Variable& x, bool) { return relu(x, relu_); }

bool ReLU::plain() const {
  const ReLUParams identity{};
  return relu_.negative_slope == identity.negative_slope && relu_.max_value == identity.max_value &&
         relu_.threshold == identity.threshold && !has_activity_regularizer();
}

LeakyReLU::LeakyReLU(float alpha, LayerOptions options) : Layer("LeakyReLU", std::move(options.name)), alpha_(alpha) {
  if (!(alpha >= 0.0f)) fail(label(), "alpha must be >= 0, got " + std::to_string(alpha));
}

Variable LeakyReLU::forward(const Variable& x, bool) { return leaky_relu(x, alpha_); }

PReLU::PReLU(PReLUOptions options) : Layer("PReLU", options.name), options_(std::move(options)) {}

Shape PReLU::output_shape(const Shape& input_shape) const {
  for (int a : options_.shared_axes)
    if (a < 1 || a > input_shape.rank())
      fail(label(), "shared axis " + std::to_string(a) + " is out of range for input " + with_batch_str(input_shape) +
                        " (axes count from 1, after the batch dim)");
  if (built())
    for (int i = 0; i < input_shape.rank(); ++i)
      if (alpha_->var.dim(i) != 1 && alpha_->var.dim(i) != input_shape[i])
        fail(label(), "input " + with_batch_str(input_shape) + " does not match alpha " + alpha_->var.shape().str() +
                          " (built for inputs " + with_batch_str(this->input_shape()) + ")");
  return input_shape;
}

void PReLU::build_impl(const Shape& input_shape) {
  Shape shape = input_shape;
  for (int a : options_.shared_axes) shape[a - 1] = 1;
  alpha_ = add_weight("alpha", shape, options_.alpha_initializer, options_.alpha_regularizer, options_.alpha_constraint);
}

Variable PReLU::forward(const Variable& x, bool) { return prelu(x, alpha_->var); }

ELU::ELU(float alpha, LayerOptions options) : Layer("ELU", std::move(options.name)), alpha_(alpha) {}

Variable ELU::forward(const Variable& x, bool) { return elu(x, alpha_); }

Softmax::Softmax(int axis, LayerOptions options) : Layer("Softmax", std::move(options.name)), axis_(axis) {}

Shape Softmax::output_shape(const Shape& input_shape) const {
  const int rank = input_shape.rank() + 1;
  const int ax = axis_ < 0 ? axis_ + rank : axis_;
  if (ax < 1 || ax >= rank)
    fail(label(), "axis " + std::to_string(axis_) + " is out of range for input " + with_batch_str(input_shape) +
                      " (the batch axis 0 is not allowed)");
  return input_shape;
}

Variable Softmax::forward(const Variable& x, bool) { return softmax(x, axis_); }

}  // namespace tapegrad
