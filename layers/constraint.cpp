#include "layers/constraint.h"

#include <string>

#include "core/error.h"
#include "core/tensor_ops.h"

namespace tapegrad {

MaxNorm::MaxNorm(float max_value, std::vector<int> axes) : max_value_(max_value), axes_(std::move(axes)) {
  if (!(max_value > 0.0f)) fail("MaxNorm", "max_value must be positive, got " + std::to_string(max_value));
  if (axes_.empty()) fail("MaxNorm", "needs at least one axis");
}

void MaxNorm::apply(Tensor& w) const {
  for (int a : axes_) normalize_axis(a, w.rank(), "MaxNorm");
  const Tensor norms = sqrt(sum(mul(w, w), axes_, true));
  const Tensor desired = clip(norms, 0.0f, max_value_);
  w.copy_from(mul(w, div(desired, add(norms, 1e-7f))));
}

void NonNeg::apply(Tensor& w) const { w.copy_from(relu(w)); }

}  // namespace tapegrad
