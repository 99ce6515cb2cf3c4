#include "tapegrad/autograd/variable.h"

#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/error.h"

namespace tapegrad {

namespace detail {
void run_backward(const std::shared_ptr<VariableImpl>& root, Tensor seed, BackwardOptions options);  // tape.cpp
}

namespace {
void require(const Variable& v, const char* what) {
  if (!v.defined()) fail(what, "the variable is undefined");
}
}  // namespace

Variable::Variable(Tensor value, bool requires_grad) : impl_(std::make_shared<detail::VariableImpl>()) {
  if (!value.defined()) fail("Variable", "cannot wrap an undefined tensor");
  impl_->value = std::move(value);
  impl_->requires_grad = requires_grad;
}

const Tensor& Variable::value() const {
  require(*this, "Variable::value");
  return impl_->value;
}

Tensor& Variable::value() {
  require(*this, "Variable::value");
  return impl_->value;
}

const Tensor& Variable::grad() const {
  require(*this, "Variable::grad");
  return impl_->grad;
}

void Variable::zero_grad() {
  require(*this, "Variable::zero_grad");
  impl_->grad = Tensor();
}

void Variable::set_requires_grad(bool on) {
  require(*this, "Variable::set_requires_grad");
  if (!on && impl_->node)
    fail("Variable::set_requires_grad", "cannot turn off gradients of an op's result; use detach()");
  impl_->requires_grad = on;
}

const Tensor& Variable::mask() const {
  static const Tensor none;
  return impl_ ? impl_->mask : none;
}

void Variable::set_mask(Tensor mask) {
  require(*this, "Variable::set_mask");
  bool leading = mask.defined() && mask.rank() >= 1 && mask.rank() <= rank();
  for (int i = 0; leading && i < mask.rank(); ++i) leading = mask.dim(i) == dim(i);
  if (mask.defined() && !leading)
    fail("Variable::set_mask", "a mask " + mask.shape().str() + " must have the leading extents of the value " +
                                   shape().str() + " ((batch, steps) for a sequence)");
  impl_->mask = std::move(mask);
}

Variable Variable::detach() const {
  require(*this, "Variable::detach");
  return Variable(impl_->value, false);
}

void Variable::backward(BackwardOptions options) const {
  require(*this, "backward");
  if (numel() != 1)
    fail("backward", "called without an output gradient on a variable of shape " + shape().str() +
                         "; only a one-element result can seed itself, pass grad_output otherwise");
  detail::run_backward(impl_, Tensor::ones(shape()), options);
}

void Variable::backward(const Tensor& grad_output, BackwardOptions options) const {
  require(*this, "backward");
  if (!grad_output.defined()) fail("backward", "the output gradient is undefined");
  detail::run_backward(impl_, grad_output.clone(), options);
}

}  // namespace tapegrad
