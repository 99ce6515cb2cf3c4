#pragma once
// Constraint: projects a weight after each optimizer update (Keras' kernel/bias_constraint).
// Norm constraints take Keras' `axis` (default 0): the norm is over those axes, one norm per
// remaining index. Axis 0 of a Dense kernel (in, out) gives each unit's incoming weights; for a
// conv kernel (rows, cols, in, out) pass {0, 1, 2}, as Keras' documentation says.
// Custom ones: subclass Constraint, or wrap a callable with CallableConstraint.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

class Constraint {
 public:
  virtual ~Constraint() = default;
  virtual void apply(Tensor& w) const = 0;
};

// Rescales so the L2 norm over `axes` is at most max_value.
// Keras: w * clip(norm, 0, max) / (epsilon + norm), epsilon 1e-7.
class MaxNorm : public Constraint {
 public:
  explicit MaxNorm(float max_value = 2.0f, std::vector<int> axes = {0});
  void apply(Tensor& w) const override;
  float max_value() const { return max_value_; }
  const std::vector<int>& axes() const { return axes_; }

 private:
  float max_value_;
  std::vector<int> axes_;
};

// Sets negative weights to zero.
class NonNeg : public Constraint {
 public:
  void apply(Tensor& w) const override;
};

// Rescales to unit L2 norm over `axes`. Keras: w / (epsilon + norm).
class UnitNorm : public Constraint {
 public:
  explicit UnitNorm(std::vector<int> axes = {0});
  void apply(Tensor& w) const override;
  const std::vector<int>& axes() const { return axes_; }

 private:
  std::vector<int> axes_;
};

// Pulls the L2 norm over `axes` into [min_value, max_value]: Keras'
// desired = rate * clip(norm, min, max) + (1 - rate) * norm;  w * desired / (epsilon + norm).
// rate = 1 enforces the bounds strictly; a smaller rate moves the norm part of the way.
class MinMaxNorm : public Constraint {
 public:
  explicit MinMaxNorm(float min_value = 0.0f, float max_value = 1.0f, float rate = 1.0f, std::vector<int> axes = {0});
  void apply(Tensor& w) const override;
  float min_value() const { return min_value_; }
  float max_value() const { return max_value_; }
  float rate() const { return rate_; }
  const std::vector<int>& axes() const { return axes_; }

 private:
  float min_value_, max_value_, rate_;
  std::vector<int> axes_;
};

// A constraint given as a callable: the new value of the weight (same shape) from the old one.
class CallableConstraint : public Constraint {
 public:
  explicit CallableConstraint(std::function<Tensor(const Tensor&)> fn, std::string name = "custom");
  void apply(Tensor& w) const override;

 private:
  std::function<Tensor(const Tensor&)> fn_;
  std::string name_;
};

// Keras' constraints.get, with the default arguments: "max_norm", "min_max_norm", "non_neg",
// "unit_norm". An unknown name is an error listing the known ones.
std::shared_ptr<Constraint> get_constraint(const std::string& name);

// A layer option that takes a constraint by name ("max_norm", "non_neg", ...), as an object
// (std::make_shared<MaxNorm>(3.0f)), or none.
class ConstraintOption : public std::shared_ptr<const Constraint> {
 public:
  ConstraintOption() = default;
  ConstraintOption(std::nullptr_t) {}                                           // NOLINT
  ConstraintOption(const char* name) : ConstraintOption(std::string(name)) {}  // NOLINT
  ConstraintOption(const std::string& name) : std::shared_ptr<const Constraint>(get_constraint(name)) {}  // NOLINT
  template <class C, class = std::enable_if_t<std::is_base_of_v<Constraint, C>>>
  ConstraintOption(std::shared_ptr<C> c) : std::shared_ptr<const Constraint>(std::move(c)) {}  // NOLINT
};
std::vector<std::string> constraint_names();

}  // namespace tapegrad
