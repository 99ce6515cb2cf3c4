#include "tapegrad/layers/conv.h"

#include <algorithm>

#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/error.h"

namespace tapegrad {

namespace {
const char* const kSpatialNames[] = {"", "(batch, steps, channels)", "(batch, rows, cols, channels)",
                                     "(batch, depth, rows, cols, channels)"};
}

Shape check_conv_input(const std::string& label, int rank, const Shape& input_shape, const DataFormat& format) {
  if (input_shape.rank() != rank + 1)
    fail(label, "input " + with_batch_str(input_shape) + " has " + std::to_string(input_shape.rank() + 1) + " dims, expects " +
                    std::to_string(rank + 2) + " " + kSpatialNames[rank] + (format.channels_first() ? " (channels_first)" : ""));
  for (int64_t d : input_shape)
    if (d < 1) fail(label, "input " + with_batch_str(input_shape) + " has an empty dim");
  return format.to_last(input_shape);
}

void check_strides_and_dilation(const std::string& label, const std::vector<int64_t>& strides,
                                const std::vector<int64_t>& dilation) {
  const bool strided = std::any_of(strides.begin(), strides.end(), [](int64_t s) { return s != 1; });
  const bool dilated = std::any_of(dilation.begin(), dilation.end(), [](int64_t d) { return d != 1; });
  if (strided && dilated) fail(label, "strides > 1 are not supported together with dilation_rate > 1 (as in Keras)");
  for (int64_t s : strides)
    if (s < 1) fail(label, "strides must be positive, got " + Shape(strides).str());
  for (int64_t d : dilation)
    if (d < 1) fail(label, "dilation_rate must be positive, got " + Shape(dilation).str());
}

Conv::Conv(std::string type, int rank, bool transpose, int64_t filters, const IntTuple& kernel_size, ConvOptions options)
    : Layer(std::move(type), options.name),
      rank_(rank),
      transpose_(transpose),
      filters_(filters),
      options_(std::move(options)),
      format_(options_.data_format, label()) {
  if (filters < 1) fail(label(), "filters must be positive, got " + std::to_string(filters));
  if (!options_.dtype.empty()) set_dtype_policy(options_.dtype);
  kernel_size_ = kernel_size.expand(rank, "kernel_size", label());  // checks each is >= 1
  strides_ = options_.strides.expand(rank, "strides", label());
  dilation_ = options_.dilation_rate.expand(rank, "dilation_rate", label());
  check_strides_and_dilation(label(), strides_, dilation_);
  const std::string& pad = options_.padding;
  const bool causal_ok = rank == 1 && !transpose;
  if (pad != "valid" && pad != "same" && !(pad == "causal" && causal_ok))
    fail(label(), "unknown padding '" + pad + "'; known: valid, same" + (causal_ok ? ", causal" : ""));
  if (!options_.output_padding.empty()) {
    if (!transpose) fail(label(), "output_padding applies only to transposed convolutions");
    output_padding_ = options_.output_padding.expand(rank, "output_padding", label(), 0);
    for (int i = 0; i < rank; ++i)
      if (output_padding_[i] < 0 || output_padding_[i] >= strides_[i])
        fail(label(), "output_padding " + Shape(output_padding_).str() + " must be >= 0 and smaller than the strides " +
                          Shape(strides_).str());
  }
  set_activity_regularizer(options_.activity_regularizer);
}

Shape Conv::output_shape(const Shape& input_shape) const {
  const Shape in = check_conv_input(label(), rank_, input_shape, format_);
  Shape out;
  for (int i = 0; i < rank_; ++i) {
    const int64_t span = dilation_[i] * (kernel_size_[i] - 1) + 1;
    if (!transpose_ && options_.padding == "valid" && in[i] < span)
      fail(label(), "kernel " + Shape(kernel_size_).str() + " (dilation " + Shape(dilation_).str() +
                        ") is larger than the input " + with_batch_str(input_shape) + " with 'valid' padding");
    const int64_t n = transpose_ ? conv_transpose_output_length(in[i], kernel_size_[i], strides_[i], dilation_[i], options_.padding,
                                                                output_padding_.empty() ? -1 : output_padding_[i])
                                 : conv_output_length(in[i], kernel_size_[i], strides_[i], dilation_[i], options_.padding);
    if (n < 1) fail(label(), "input " + with_batch_str(input_shape) + " gives an empty output");
    // The transposed convolution is the gradient of a convolution from the output back to the
    // input: with an explicit output_padding that convolution must give the input's length back.
    if (transpose_ && !output_padding_.empty()) {
      const int64_t back = conv_output_length(n, kernel_size_[i], strides_[i], dilation_[i], options_.padding);
      if (back != in[i])
        fail(label(), "output_padding " + std::to_string(output_padding_[i]) + " at spatial dim " + std::to_string(i) +
                          " gives length " + std::to_string(n) + " for input length " + std::to_string(in[i]) +
                          ", which a convolution with kernel " + std::to_string(kernel_size_[i]) + ", stride " +
                          std::to_string(strides_[i]) + " and '" + options_.padding + "' padding maps to " +
                          std::to_string(back) + ", not back to " + std::to_string(in[i]) + "; choose another output_padding");
    }
    out.push_back(n);
  }
  out.push_back(filters_);
  return format_.from_last(out);
}

void Conv::build_impl(const Shape& input_shape) {
  const int64_t channels = format_.to_last(input_shape)[rank_];
  Shape kshape(kernel_size_);
  kshape.push_back(transpose_ ? filters_ : channels);
  kshape.push_back(transpose_ ? channels : filters_);
  kernel_ = add_weight("kernel", kshape, options_.kernel_initializer, options_.kernel_regularizer, options_.kernel_constraint);
  if (options_.use_bias)
    bias_ = add_weight("bias", {filters_}, options_.bias_initializer, options_.bias_regularizer, options_.bias_constraint);
}

Variable Conv::forward(const Variable& x, bool /*training*/) {
  const Variable in = format_.to_last(x);
  const int64_t expected = kernel_->var.dim(transpose_ ? rank_ + 1 : rank_);
  if (in.dim(-1) != expected)
    fail(label(), "input " + x.shape().str() + " has " + std::to_string(in.dim(-1)) + " channels, the layer was built for " +
                      std::to_string(expected));
  if (!transpose_) {
    // Bias and a plain relu are fused into the convolution's output pass.
    const bool fuse_relu = options_.activation.is_plain_relu();
    const Variable y = conv(in, kernel_->var, params(), bias_ ? bias_->var : Variable(), fuse_relu);
    return fuse_relu ? format_.from_last(y) : options_.activation(format_.from_last(y));
  }
  Variable y = conv_transpose(in, kernel_->var, params(), output_padding_);
  if (bias_) y = add(y, bias_->var);
  // Keras applies the activation in the layer's own data format (it matters for softmax).
  return options_.activation(format_.from_last(y));
}

}  // namespace tapegrad
