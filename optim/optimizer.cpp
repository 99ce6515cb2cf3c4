#include "optim/optimizer.h"

#include <set>

#include "autograd/tape.h"
#include "core/error.h"

namespace tapegrad {

Optimizer::Optimizer(std::vector<ParameterPtr> parameters) : parameters_(std::move(parameters)) {
  // The usual cause is a lazily built model: its weights exist only after build() or a first call.
  if (parameters_.empty())
    fail("Optimizer", "got an empty parameter list; build the model (model.build(input_shape)) before creating "
                      "the optimizer");
  std::set<const Parameter*> seen;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    if (!parameters_[i] || !parameters_[i]->var.defined())
      fail("Optimizer", "parameter " + std::to_string(i) + " is null or undefined (was the model built?)");
    if (!seen.insert(parameters_[i].get()).second)
      fail("Optimizer", "parameter '" + parameters_[i]->name + "' is given twice");
  }
}

void Optimizer::zero_grad() {
  for (auto& p : parameters_) p->var.zero_grad();
}

void Optimizer::step() {
  NoGradGuard no_grad;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    Parameter& p = *parameters_[i];
    if (!p.trainable || !p.var.grad().defined()) continue;
    Tensor& value = p.var.value();
    const Tensor& raw = p.var.grad();
    if (raw.shape() != value.shape())
      fail("Optimizer::step", "gradient " + raw.shape().str() + " of '" + p.name + "' does not match its shape " +
                                  value.shape().str());
    Tensor grad = raw;
    if (p.regularizer) {
      grad = raw.clone();  // never modify the gradient that the user may still read
      p.regularizer->add_gradient(value, grad);
    }
    update(i, value, grad);
    if (p.constraint) p.constraint->apply(value);
  }
  ++iterations_;
}

}  // namespace tapegrad
