#include "tapegrad/layers/depthwise_conv.h"

#include <utility>

#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/error.h"
#include "tapegrad/layers/conv.h"

namespace tapegrad {

namespace {

// The per-sample output shape (channels_last) of a depthwise window over `in` (channels_last).
Shape windowed_shape(const std::string& label, const Shape& in, const std::vector<int64_t>& kernel,
                     const std::vector<int64_t>& strides, const std::vector<int64_t>& dilation, const std::string& padding,
                     int64_t channels) {
  Shape out;
  for (size_t i = 0; i < kernel.size(); ++i) {
    const int64_t span = dilation[i] * (kernel[i] - 1) + 1;
    if (padding == "valid" && in[static_cast<int>(i)] < span)
      fail(label, "kernel " + Shape(kernel).str() + " is larger than the input " + with_batch_str(in) + " with 'valid' padding");
    out.push_back(conv_output_length(in[static_cast<int>(i)], kernel[i], strides[i], dilation[i], padding));
  }
  out.push_back(channels);
  return out;
}

// The window of both depthwise layers, expanded to `rank` dims and checked.
struct Window {
  std::vector<int64_t> kernel, strides, dilation;
};
template <class Options>
Window checked_window(const std::string& label, int rank, const IntTuple& kernel_size, const Options& options) {
  Window w{kernel_size.expand(rank, "kernel_size", label), options.strides.expand(rank, "strides", label),
           options.dilation_rate.expand(rank, "dilation_rate", label)};
  check_strides_and_dilation(label, w.strides, w.dilation);
  if (options.padding != "valid" && options.padding != "same")
    fail(label, "unknown padding '" + options.padding + "'; known: valid, same");
  if (options.depth_multiplier < 1) fail(label, "depth_multiplier must be positive, got " + std::to_string(options.depth_multiplier));
  return w;
}

}  // namespace

DepthwiseConv::DepthwiseConv(std::string type, int rank, const IntTuple& kernel_size, DepthwiseConvOptions options)
    : Layer(std::move(type), options.name), rank_(rank), options_(std::move(options)), format_(options_.data_format, label()) {
  Window window = checked_window(label(), rank, kernel_size, options_);
  kernel_size_ = std::move(window.kernel);
  strides_ = std::move(window.strides);
  dilation_ = std::move(window.dilation);
  set_activity_regularizer(options_.activity_regularizer);
}

Shape DepthwiseConv::output_shape(const Shape& input_shape) const {
  const Shape in = check_conv_input(label(), rank_, input_shape, format_);
  return format_.from_last(windowed_shape(label(), in, kernel_size_, strides_, dilation_, options_.padding,
                                          in[rank_] * options_.depth_multiplier));
}

void DepthwiseConv::build_impl(const Shape& input_shape) {
  Shape k(kernel_size_);
  k.push_back(format_.to_last(input_shape)[rank_]);
  k.push_back(options_.depth_multiplier);
  depthwise_ = add_weight("depthwise_kernel", k, options_.depthwise_initializer, options_.depthwise_regularizer,
                          options_.depthwise_constraint);
  if (options_.use_bias)
    bias_ = add_weight("bias", {k[rank_] * options_.depth_multiplier}, options_.bias_initializer, options_.bias_regularizer,
                       options_.bias_constraint);
}

Variable DepthwiseConv::forward(const Variable& x, bool /*training*/) {
  Variable y = depthwise_conv(format_.to_last(x), depthwise_->var, {strides_, dilation_, options_.padding});
  if (bias_) y = add(y, bias_->var);
  return options_.activation(format_.from_last(y));
}

SeparableConv::SeparableConv(std::string type, int rank, int64_t filters, const IntTuple& kernel_size,
                             SeparableConvOptions options)
    : Layer(std::move(type), options.name),
      rank_(rank),
      filters_(filters),
      options_(std::move(options)),
      format_(options_.data_format, label()) {
  if (filters < 1) fail(label(), "filters must be positive, got " + std::to_string(filters));
  Window window = checked_window(label(), rank, kernel_size, options_);
  kernel_size_ = std::move(window.kernel);
  strides_ = std::move(window.strides);
  dilation_ = std::move(window.dilation);
  set_activity_regularizer(options_.activity_regularizer);
}

Shape SeparableConv::output_shape(const Shape& input_shape) const {
  const Shape in = check_conv_input(label(), rank_, input_shape, format_);
  return format_.from_last(windowed_shape(label(), in, kernel_size_, strides_, dilation_, options_.padding, filters_));
}

void SeparableConv::build_impl(const Shape& input_shape) {
  const int64_t channels = format_.to_last(input_shape)[rank_], mult = options_.depth_multiplier;
  Shape dk(kernel_size_);
  dk.push_back(channels);
  dk.push_back(mult);
  depthwise_ = add_weight("depthwise_kernel", dk, options_.depthwise_initializer, options_.depthwise_regularizer,
                          options_.depthwise_constraint);
  Shape pk(std::vector<int64_t>(static_cast<size_t>(rank_), 1));
  pk.push_back(channels * mult);
  pk.push_back(filters_);
  pointwise_ = add_weight("pointwise_kernel", pk, options_.pointwise_initializer, options_.pointwise_regularizer,
                          options_.pointwise_constraint);
  if (options_.use_bias)
    bias_ = add_weight("bias", {filters_}, options_.bias_initializer, options_.bias_regularizer, options_.bias_constraint);
}

Variable SeparableConv::forward(const Variable& x, bool /*training*/) {
  const Variable d = depthwise_conv(format_.to_last(x), depthwise_->var, {strides_, dilation_, options_.padding});
  Variable y = conv(d, pointwise_->var);
  if (bias_) y = add(y, bias_->var);
  return options_.activation(format_.from_last(y));
}

}  // namespace tapegrad
