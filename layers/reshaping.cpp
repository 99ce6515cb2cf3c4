#include "tapegrad/layers/reshaping.h"

#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/pooling.h"
#include "tapegrad/core/error.h"
#include "tapegrad/layers/conv.h"

namespace tapegrad {

std::vector<std::pair<int64_t, int64_t>> SpatialAmounts::expand(int rank, const std::string& what,
                                                                const std::string& owner) const {
  std::vector<std::pair<int64_t, int64_t>> out;
  if (!pairs_.empty()) {
    if (static_cast<int>(pairs_.size()) != rank)
      fail(owner, what + " needs " + std::to_string(rank) + " (before, after) pairs, got " + std::to_string(pairs_.size()));
    out = pairs_;
  } else if (flat_.size() == 1) {
    out.assign(static_cast<size_t>(rank), {flat_[0], flat_[0]});
  } else if (rank == 1 && flat_.size() == 2) {
    out = {{flat_[0], flat_[1]}};
  } else if (static_cast<int>(flat_.size()) == rank) {
    for (int64_t v : flat_) out.emplace_back(v, v);
  } else {
    fail(owner, what + " needs 1 or " + std::to_string(rank) + " values, got " + Shape(flat_).str());
  }
  for (const auto& [a, b] : out)
    if (a < 0 || b < 0) fail(owner, what + " must be non-negative");
  return out;
}

ZeroPadding::ZeroPadding(std::string type, int rank, const SpatialAmounts& padding, SpatialOptions options)
    : Layer(std::move(type), options.name), rank_(rank), format_(options.data_format, label()) {
  pads_ = padding.expand(rank, "padding", label());
}

Shape ZeroPadding::output_shape(const Shape& input_shape) const {
  Shape s = check_conv_input(label(), rank_, input_shape, format_);
  for (int i = 0; i < rank_; ++i) s[i] += pads_[i].first + pads_[i].second;
  return format_.from_last(s);
}

Variable ZeroPadding::forward(const Variable& x, bool /*training*/) {
  return format_.from_last(zero_pad(format_.to_last(x), pads_));
}

Cropping::Cropping(std::string type, int rank, const SpatialAmounts& cropping, SpatialOptions options)
    : Layer(std::move(type), options.name), rank_(rank), format_(options.data_format, label()) {
  crops_ = cropping.expand(rank, "cropping", label());
}

Shape Cropping::output_shape(const Shape& input_shape) const {
  Shape s = check_conv_input(label(), rank_, input_shape, format_);
  for (int i = 0; i < rank_; ++i) {
    s[i] -= crops_[i].first + crops_[i].second;
    if (s[i] < 1)
      fail(label(), "cropping (" + std::to_string(crops_[i].first) + ", " + std::to_string(crops_[i].second) +
                        ") leaves nothing of dim " + std::to_string(i + 1) + " of input " + with_batch_str(input_shape));
  }
  return format_.from_last(s);
}

Variable Cropping::forward(const Variable& x, bool /*training*/) {
  Variable y = format_.to_last(x);
  for (int i = 0; i < rank_; ++i)
    if (crops_[i].first || crops_[i].second) y = slice(y, 1 + i, crops_[i].first, y.dim(1 + i) - crops_[i].second);
  return format_.from_last(y);
}

UpSampling::UpSampling(std::string type, int rank, const IntTuple& size, SpatialOptions options, std::string interpolation)
    : Layer(std::move(type), options.name), rank_(rank), format_(options.data_format, label()) {
  size_ = size.expand(rank, "size", label());
  for (int64_t s : size_)
    if (s < 1) fail(label(), "size must be positive, got " + Shape(size_).str());
  if (interpolation != "nearest")
    fail(label(), "interpolation '" + interpolation + "' is not supported; known: nearest");
}

Shape UpSampling::output_shape(const Shape& input_shape) const {
  Shape s = check_conv_input(label(), rank_, input_shape, format_);
  for (int i = 0; i < rank_; ++i) s[i] *= size_[i];
  return format_.from_last(s);
}

Variable UpSampling::forward(const Variable& x, bool /*training*/) {
  return format_.from_last(upsample(format_.to_last(x), size_));
}

Flatten::Flatten(SpatialOptions options) : Layer("Flatten", options.name), format_(options.data_format, label()) {}

Shape Flatten::output_shape(const Shape& input_shape) const {
  if (input_shape.rank() < 1) fail(label(), "input " + with_batch_str(input_shape) + " has nothing to flatten");
  return Shape{input_shape.numel()};
}

Variable Flatten::forward(const Variable& x, bool /*training*/) {
  const Variable y = x.rank() > 2 ? format_.to_last(x) : x;
  return reshape(y, {y.dim(0), -1});
}

Reshape::Reshape(std::vector<int64_t> target_shape, LayerOptions options)
    : Layer("Reshape", std::move(options.name)), target_(std::move(target_shape)) {
  int unknown = 0;
  for (int64_t d : target_) {
    if (d == -1) ++unknown;
    else if (d < 1) fail(label(), "target_shape " + extents_str(target_) + ": entries must be positive or -1");
  }
  if (unknown > 1) fail(label(), "target_shape may contain at most one -1");
}

Shape Reshape::output_shape(const Shape& input_shape) const {
  std::vector<int64_t> out = target_;
  int64_t known = 1;
  int unknown = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) unknown = static_cast<int>(i);
    else known *= out[i];
  }
  const int64_t n = input_shape.numel();
  if (unknown >= 0) {
    if (n % known != 0)
      fail(label(), "cannot reshape input " + with_batch_str(input_shape) + " (" + std::to_string(n) +
                        " values per sample) to a multiple of " + std::to_string(known));
    out[unknown] = n / known;
  } else if (known != n) {
    fail(label(), "cannot reshape input " + with_batch_str(input_shape) + " (" + std::to_string(n) +
                      " values per sample) to " + with_batch_str(Shape(out)));
  }
  return Shape(out);
}

Variable Reshape::forward(const Variable& x, bool /*training*/) {
  const Shape out = output_shape(x.shape().drop(0, 1));
  std::vector<int64_t> dims{x.dim(0)};
  for (int64_t d : out) dims.push_back(d);
  return reshape(x, dims);
}

}  // namespace tapegrad
