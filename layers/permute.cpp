#include "tapegrad/layers/permute.h"

#include <algorithm>
#include <string>

#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/error.h"

namespace tapegrad {

namespace {
std::string axes_str(const std::vector<int>& dims) {
  std::string s = "(";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + (dims.size() == 1 ? ",)" : ")");
}
}  // namespace

Permute::Permute(std::vector<int> dims, LayerOptions options) : Layer("Permute", std::move(options.name)), dims_(std::move(dims)) {
  std::vector<int> sorted = dims_;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i)
    if (sorted[i] != static_cast<int>(i) + 1)
      fail(label(), "dims " + axes_str(dims_) + " must be a permutation of 1.." + std::to_string(dims_.size()));
  if (dims_.empty()) fail(label(), "dims must not be empty");
}

Shape Permute::output_shape(const Shape& input_shape) const {
  if (input_shape.rank() != static_cast<int>(dims_.size()))
    fail(label(), "dims " + axes_str(dims_) + " permute " + std::to_string(dims_.size()) + " dims, the input " +
                      with_batch_str(input_shape) + " has " + std::to_string(input_shape.rank()) + " besides the batch");
  Shape out;
  for (int d : dims_) out.push_back(input_shape[d - 1]);
  return out;
}

Variable Permute::forward(const Variable& x, bool /*training*/) {
  std::vector<int> perm{0};
  perm.insert(perm.end(), dims_.begin(), dims_.end());
  return permute(x, perm);
}

}  // namespace tapegrad
