#pragma once
// Regularizer: a penalty on a weight (applied by the optimizer's gradient-hook stage) or on a
// layer's output (an op on the tape, collected by losses()). Keras' formulas:
// L1L2(l1, l2) = l1 * sum|x| + l2 * sum x^2.
// Custom ones: subclass Regularizer, or wrap a callable penalty with CallableRegularizer.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tapegrad/autograd/variable.h"

namespace tapegrad {

class Regularizer {
 public:
  virtual ~Regularizer() = default;
  // The penalty as an op on the tape (activity regularization, and the reported loss).
  virtual Variable penalty(const Variable& x) const = 0;
  // The penalty's value for a weight, without recording.
  virtual double value(const Tensor& w) const = 0;
  // grad += d penalty / d w (the optimizer's gradient hook).
  virtual void add_gradient(const Tensor& w, Tensor& grad) const = 0;
};

class L1L2 : public Regularizer {
 public:
  explicit L1L2(float l1 = 0.0f, float l2 = 0.0f);
  Variable penalty(const Variable& x) const override;
  double value(const Tensor& w) const override;
  void add_gradient(const Tensor& w, Tensor& grad) const override;
  float l1() const { return l1_; }
  float l2() const { return l2_; }

 private:
  float l1_, l2_;
};

// Keras' defaults: L1(0.01), L2(0.01).
std::shared_ptr<Regularizer> L1(float l1 = 0.01f);
std::shared_ptr<Regularizer> L2(float l2 = 0.01f);

// A penalty given as a callable on Variables (it must reduce to a scalar). Its gradient for the
// optimizer's hook is taken by autograd: the optimizer step runs under NoGradGuard and the tape
// is per thread, so the penalty is differentiated on a short-lived helper thread.
using PenaltyFn = std::function<Variable(const Variable&)>;
class CallableRegularizer : public Regularizer {
 public:
  explicit CallableRegularizer(PenaltyFn fn, std::string name = "custom");
  Variable penalty(const Variable& x) const override;
  double value(const Tensor& w) const override;
  void add_gradient(const Tensor& w, Tensor& grad) const override;
  const std::string& name() const { return name_; }

 private:
  PenaltyFn fn_;
  std::string name_;
};

// Keras' regularizers.get: "l1" -> L1(0.01), "l2" -> L2(0.01), "l1_l2" -> L1L2(0.01, 0.01).
// An unknown name is an error listing the known ones.
std::shared_ptr<Regularizer> get_regularizer(const std::string& name);

// A layer option that takes a regularizer by name ("l2"), as an object (L2(1e-4f)), or none:
//   Dense(64, {.kernel_regularizer = "l2"}), Conv2D(32, 3, {.kernel_regularizer = L2(1e-4f)}).
class RegularizerOption : public std::shared_ptr<const Regularizer> {
 public:
  RegularizerOption() = default;
  RegularizerOption(std::nullptr_t) {}                                            // NOLINT
  RegularizerOption(const char* name) : RegularizerOption(std::string(name)) {}  // NOLINT
  RegularizerOption(const std::string& name) : std::shared_ptr<const Regularizer>(get_regularizer(name)) {}  // NOLINT
  template <class R, class = std::enable_if_t<std::is_base_of_v<Regularizer, R>>>
  RegularizerOption(std::shared_ptr<R> r) : std::shared_ptr<const Regularizer>(std::move(r)) {}  // NOLINT
};
std::vector<std::string> regularizer_names();

}  // namespace tapegrad
