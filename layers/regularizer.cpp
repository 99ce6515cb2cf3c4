#include "tapegrad/layers/regularizer.h"

#include <cmath>
#include <exception>
#include <map>
#include <string>

#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad {

L1L2::L1L2(float l1, float l2) : l1_(l1), l2_(l2) {
  if (!(l1 >= 0.0f) || !(l2 >= 0.0f) || !std::isfinite(l1) || !std::isfinite(l2))
    fail("L1L2", "factors must be finite and non-negative, got l1=" + std::to_string(l1) + " l2=" + std::to_string(l2));
}

Variable L1L2::penalty(const Variable& x) const {
  Variable total;
  if (l1_ > 0.0f) total = mul(sum(abs(x)), l1_);
  if (l2_ > 0.0f) {
    Variable p = mul(sum(mul(x, x)), l2_);
    total = total.defined() ? add(total, p) : p;
  }
  return total.defined() ? total : mul(sum(x), 0.0f);
}

double L1L2::value(const Tensor& w) const {
  double v = 0.0;
  if (l1_ > 0.0f) v += l1_ * sum_all(abs(w));
  if (l2_ > 0.0f) v += l2_ * squared_norm(w);
  return v;
}

void L1L2::add_gradient(const Tensor& w, Tensor& grad) const {
  if (l1_ > 0.0f) axpy_(grad, sign(w), l1_);  // d|x|/dx = sign(x), 0 at 0 as in TensorFlow
  if (l2_ > 0.0f) axpy_(grad, w, 2.0f * l2_);
}

std::shared_ptr<Regularizer> L1(float l1) { return std::make_shared<L1L2>(l1, 0.0f); }
std::shared_ptr<Regularizer> L2(float l2) { return std::make_shared<L1L2>(0.0f, l2); }

}  // namespace tapegrad

// ---- callable penalties, and regularizers by name ----

namespace tapegrad {

namespace {
Variable checked_scalar(const Variable& p, const std::string& name) {
  if (!p.defined() || p.numel() != 1)
    fail("CallableRegularizer '" + name + "'", "the penalty must be a scalar, got " +
                                                  (p.defined() ? p.shape().str() : std::string("undefined")));
  return p;
}
}  // namespace

CallableRegularizer::CallableRegularizer(PenaltyFn fn, std::string name) : fn_(std::move(fn)), name_(std::move(name)) {
  if (!fn_) fail("CallableRegularizer", "the custom regularizer '" + name_ + "' is empty");
}

Variable CallableRegularizer::penalty(const Variable& x) const { return checked_scalar(fn_(x), name_); }

double CallableRegularizer::value(const Tensor& w) const {
  NoGradGuard no_grad;
  return checked_scalar(fn_(Variable(w)), name_).item();
}

void CallableRegularizer::add_gradient(const Tensor& w, Tensor& grad) const {
  // Records, whatever guard the caller (Optimizer::step) holds; the graph is this call's alone.
  EnableGradGuard recording;
  Variable v(w.clone(), true);
  checked_scalar(fn_(v), name_).backward();
  if (v.grad().defined()) axpy_(grad, v.grad(), 1.0f);  // undefined: the penalty does not depend on w
}

namespace {
const std::map<std::string, std::function<std::shared_ptr<Regularizer>()>>& regularizer_registry() {
  static const std::map<std::string, std::function<std::shared_ptr<Regularizer>()>> names = {
      {"l1", [] { return L1(); }},
      {"l2", [] { return L2(); }},
      {"l1_l2", [] { return std::make_shared<L1L2>(0.01f, 0.01f); }},
  };
  return names;
}
}  // namespace

std::shared_ptr<Regularizer> get_regularizer(const std::string& name) {
  const auto it = regularizer_registry().find(name);
  if (it == regularizer_registry().end()) {
    std::string known;
    for (const auto& n : regularizer_names()) known += (known.empty() ? "" : ", ") + n;
    fail("Regularizer", "unknown regularizer '" + name + "'; known: " + known);
  }
  return it->second();
}

std::vector<std::string> regularizer_names() {
  std::vector<std::string> names;
  for (const auto& [name, make] : regularizer_registry()) names.push_back(name);
  return names;
}

}  // namespace tapegrad
