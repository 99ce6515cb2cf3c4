#include "layers/regularizer.h"

#include <cmath>
#include <string>

#include "autograd/ops.h"
#include "core/error.h"
#include "core/tensor_ops.h"

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
