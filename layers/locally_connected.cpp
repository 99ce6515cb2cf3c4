#include "tapegrad/layers/locally_connected.h"

#include <vector>

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

// Keras 2.15 (backend.local_conv, implementation 1) flattens each patch inputs[:, :, window] in
// channels_first, so the kernel's middle dim runs over (in_channels, *kernel); in channels_last it
// runs over (*kernel, in_channels), the order locally_connected() takes. backend.bias_add adds the
// (*output spatial, filters) bias in channels_first as reshape(bias, (1, filters, *output spatial))
// (a reshape, not a transpose). Both are done with differentiable ops, so gradients follow.
Variable LocallyConnected::forward(const Variable& x, bool /*training*/) {
  Variable w = kernel_->var;
  if (format_.channels_first()) {
    const int64_t positions = w.dim(0), features = w.dim(1), filters = w.dim(2);
    int64_t window = 1;
    for (int64_t k : kernel_size_) window *= k;
    const int64_t channels = features / window;
    if (channels > 1) {  // (P, C, *k, F) -> (P, *k, C, F)
      std::vector<int64_t> split = {positions, channels};
      split.insert(split.end(), kernel_size_.begin(), kernel_size_.end());
      split.push_back(filters);
      std::vector<int> perm = {0};
      for (int i = 0; i < rank_; ++i) perm.push_back(2 + i);
      perm.push_back(1);
      perm.push_back(rank_ + 2);
      w = reshape(permute(reshape(w, split), perm), {positions, features, filters});
    }
  }
  Variable y = format_.from_last(locally_connected(format_.to_last(x), w, kernel_size_, strides_));
  if (bias_) {
    if (format_.channels_first()) {
      const Shape& b = bias_->var.shape();  // (*output spatial, filters)
      std::vector<int64_t> cf = {b[b.rank() - 1]};
      for (int i = 0; i + 1 < b.rank(); ++i) cf.push_back(b[i]);
      y = add(y, reshape(bias_->var, cf));
    } else {
      y = add(y, bias_->var);
    }
  }
  return options_.activation(y);
}

}  // namespace tapegrad
