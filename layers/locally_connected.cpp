#include "tapegrad/layers/locally_connected.h"

#include "tapegrad/autograd/conv.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/error.h"
#include "tapegrad/layers/conv.h"

namespace tapegrad {

LocallyConnected::LocallyConnected(std::string type, int rank, int64_t filters, const IntTuple& kernel_size,
                                   ConvOptions options)
    : Layer(std::move(type), options.name),
      rank_(rank),
      filters_(filters),
      options_(std::move(options)),
      format_(options_.data_format, label()) {
  if (filters < 1) fail(label(), "filters must be positive, got " + std::to_string(filters));
  kernel_size_ = kernel_size.expand(rank, "kernel_size", label());
  strides_ = options_.strides.expand(rank, "strides", label());
  check_strides_and_dilation(label(), strides_, std::vector<int64_t>(static_cast<size_t>(rank), 1));
  if (options_.padding != "valid")
    fail(label(), "supports only 'valid' padding (as Keras), got '" + options_.padding + "'");
  for (int64_t d : options_.dilation_rate.values())
    if (d != 1) fail(label(), "has no dilation_rate (as Keras)");
  if (!options_.output_padding.empty()) fail(label(), "output_padding applies only to transposed convolutions");
  set_activity_regularizer(options_.activity_regularizer);
}

Shape LocallyConnected::output_shape(const Shape& input_shape) const {
  const Shape in = check_conv_input(label(), rank_, input_shape, format_);
  Shape out;
  for (int i = 0; i < rank_; ++i) {
    if (in[i] < kernel_size_[i])
      fail(label(), "kernel " + Shape(kernel_size_).str() + " is larger than the input " + with_batch_str(input_shape));
    out.push_back(conv_output_length(in[i], kernel_size_[i], strides_[i], 1, "valid"));
  }
  out.push_back(filters_);
  return format_.from_last(out);
}

void LocallyConnected::build_impl(const Shape& input_shape) {
  const Shape out = format_.to_last(output_shape(input_shape));
  const int64_t channels = format_.to_last(input_shape)[rank_];
  int64_t positions = 1, window = 1;
  for (int i = 0; i < rank_; ++i) {
    positions *= out[i];
    window *= kernel_size_[i];
  }
  kernel_ = add_weight("kernel", {positions, window * channels, filters_}, options_.kernel_initializer,
                       options_.kernel_regularizer, options_.kernel_constraint);
  if (options_.use_bias)
    bias_ = add_weight("bias", out, options_.bias_initializer, options_.bias_regularizer, options_.bias_constraint);
}

Variable LocallyConnected::forward(const Variable& x, bool /*training*/) {
  Variable y = locally_connected(format_.to_last(x), kernel_->var, kernel_size_, strides_);
  if (bias_) y = add(y, bias_->var);
  return options_.activation(format_.from_last(y));
}

}  // namespace tapegrad
