#include "tapegrad/layers/conv_options.h"

#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/error.h"

namespace tapegrad {

std::vector<int64_t> IntTuple::expand(int rank, const std::string& what, const std::string& owner, int64_t minimum) const {
  const std::string given = extents_str(values_);
  if (values_.empty()) fail(owner, what + " is not given");
  if (values_.size() != 1 && static_cast<int>(values_.size()) != rank)
    fail(owner, what + " needs 1 or " + std::to_string(rank) + " values, got " + given);
  for (int64_t v : values_)
    if (v < minimum)
      fail(owner, what + " " + given + " must be " + (minimum == 1 ? "positive" : ">= " + std::to_string(minimum)) +
                      ", got " + std::to_string(v));
  if (values_.size() == 1) return std::vector<int64_t>(static_cast<size_t>(rank), values_[0]);
  return values_;
}

DataFormat::DataFormat(const std::string& name, const std::string& owner) : name_(name) {
  if (name != "channels_last" && name != "channels_first")
    fail(owner, "unknown data_format '" + name + "'; known: channels_first, channels_last");
  channels_first_ = name == "channels_first";
}

Shape DataFormat::to_last(const Shape& s) const {
  if (!channels_first_ || s.rank() < 2) return s;
  Shape out = s.drop(0, 1);
  out.push_back(s[0]);
  return out;
}

Shape DataFormat::from_last(const Shape& s) const {
  if (!channels_first_ || s.rank() < 2) return s;
  Shape out{s[s.rank() - 1]};
  for (int i = 0; i + 1 < s.rank(); ++i) out.push_back(s[i]);
  return out;
}

Variable DataFormat::to_last(const Variable& x) const {
  if (!channels_first_) return x;
  std::vector<int> perm{0};
  for (int i = 2; i < x.rank(); ++i) perm.push_back(i);
  perm.push_back(1);
  return permute(x, perm);
}

Variable DataFormat::from_last(const Variable& x) const {
  if (!channels_first_) return x;
  std::vector<int> perm{0, x.rank() - 1};
  for (int i = 1; i + 1 < x.rank(); ++i) perm.push_back(i);
  return permute(x, perm);
}

}  // namespace tapegrad
