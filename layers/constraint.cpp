#include "tapegrad/layers/constraint.h"

#include <map>
#include <string>

#include "tapegrad/core/error.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad {

namespace {

constexpr float kEpsilon = 1e-7f;  // Keras' backend.epsilon()

void check_axes(const std::vector<int>& axes, const char* who) {
  if (axes.empty()) fail(who, "needs at least one axis");
}

// The L2 norm over `axes`, kept as size-1 dims so it broadcasts against w.
Tensor norms_over(const Tensor& w, const std::vector<int>& axes, const char* who) {
  for (int a : axes) normalize_axis(a, w.rank(), who);
  return sqrt(sum(mul(w, w), axes, true));
}

}  // namespace

MaxNorm::MaxNorm(float max_value, std::vector<int> axes) : max_value_(max_value), axes_(std::move(axes)) {
  if (!(max_value > 0.0f)) fail("MaxNorm", "max_value must be positive, got " + std::to_string(max_value));
  check_axes(axes_, "MaxNorm");
}

void MaxNorm::apply(Tensor& w) const {
  const Tensor norms = norms_over(w, axes_, "MaxNorm");
  const Tensor desired = clip(norms, 0.0f, max_value_);
  w.copy_from(mul(w, div(desired, add(norms, kEpsilon))));
}

void NonNeg::apply(Tensor& w) const { w.copy_from(relu(w)); }

UnitNorm::UnitNorm(std::vector<int> axes) : axes_(std::move(axes)) { check_axes(axes_, "UnitNorm"); }

void UnitNorm::apply(Tensor& w) const {
  const Tensor norms = norms_over(w, axes_, "UnitNorm");
  w.copy_from(div(w, add(norms, kEpsilon)));
}

MinMaxNorm::MinMaxNorm(float min_value, float max_value, float rate, std::vector<int> axes)
    : min_value_(min_value), max_value_(max_value), rate_(rate), axes_(std::move(axes)) {
  if (!(min_value >= 0.0f && min_value <= max_value))
    fail("MinMaxNorm", "needs 0 <= min_value <= max_value, got min_value " + std::to_string(min_value) +
                           " and max_value " + std::to_string(max_value));
  if (!(rate >= 0.0f && rate <= 1.0f)) fail("MinMaxNorm", "rate must be in [0, 1], got " + std::to_string(rate));
  check_axes(axes_, "MinMaxNorm");
}

void MinMaxNorm::apply(Tensor& w) const {
  const Tensor norms = norms_over(w, axes_, "MinMaxNorm");
  const Tensor desired = add(mul(clip(norms, min_value_, max_value_), rate_), mul(norms, 1.0f - rate_));
  w.copy_from(mul(w, div(desired, add(norms, kEpsilon))));
}

CallableConstraint::CallableConstraint(std::function<Tensor(const Tensor&)> fn, std::string name)
    : fn_(std::move(fn)), name_(std::move(name)) {
  if (!fn_) fail("CallableConstraint", "the custom constraint '" + name_ + "' is empty");
}

void CallableConstraint::apply(Tensor& w) const {
  const Tensor out = fn_(w);
  if (!out.defined() || out.shape() != w.shape())
    fail("CallableConstraint '" + name_ + "'", "returned " + (out.defined() ? out.shape().str() : std::string("undefined")) +
                                                  " for a weight of shape " + w.shape().str() + "; expected the same shape");
  if (!out.shares_storage(w)) w.copy_from(out);
}

namespace {
const std::map<std::string, std::function<std::shared_ptr<Constraint>()>>& constraint_registry() {
  static const std::map<std::string, std::function<std::shared_ptr<Constraint>()>> names = {
      {"max_norm", [] { return std::make_shared<MaxNorm>(); }},
      {"min_max_norm", [] { return std::make_shared<MinMaxNorm>(); }},
      {"non_neg", [] { return std::make_shared<NonNeg>(); }},
      {"unit_norm", [] { return std::make_shared<UnitNorm>(); }},
  };
  return names;
}
}  // namespace

std::shared_ptr<Constraint> get_constraint(const std::string& name) {
  const auto it = constraint_registry().find(name);
  if (it == constraint_registry().end()) {
    std::string known;
    for (const auto& n : constraint_names()) known += (known.empty() ? "" : ", ") + n;
    fail("Constraint", "unknown constraint '" + name + "'; known: " + known);
  }
  return it->second();
}

std::vector<std::string> constraint_names() {
  std::vector<std::string> names;
  for (const auto& [name, make] : constraint_registry()) names.push_back(name);
  return names;
}

}  // namespace tapegrad
