#include "optim/sgd.h"

#include <Eigen/Core>
#include <cmath>
#include <string>

#include "core/error.h"

namespace tapegrad {

namespace {
void check_lr(float lr) {
  if (!(lr >= 0.0f) || !std::isfinite(lr)) fail("SGD", "learning_rate must be finite and >= 0, got " + std::to_string(lr));
}
}  // namespace

SGD::SGD(std::vector<ParameterPtr> parameters, SGDOptions options)
    : Optimizer(std::move(parameters)), options_(options), momentum_(this->parameters().size()) {
  check_lr(options.learning_rate);
  if (!(options.momentum >= 0.0f && options.momentum <= 1.0f))
    fail("SGD", "momentum must be in [0, 1], got " + std::to_string(options.momentum));
}

void SGD::set_learning_rate(float lr) {
  check_lr(lr);
  options_.learning_rate = lr;
}

void SGD::update(size_t index, Tensor& value, const Tensor& grad) {
  Eigen::Map<Eigen::ArrayXf> w(value.data(), value.numel());
  Eigen::Map<const Eigen::ArrayXf> g(grad.data(), grad.numel());
  const float lr = options_.learning_rate, mu = options_.momentum;
  if (mu == 0.0f) {
    w -= lr * g;
    return;
  }
  Tensor& m_tensor = momentum_[index];
  if (!m_tensor.defined()) m_tensor = Tensor::zeros(value.shape());
  Eigen::Map<Eigen::ArrayXf> m(m_tensor.data(), m_tensor.numel());
  m = mu * m - lr * g;
  if (options_.nesterov)
    w += mu * m - lr * g;
  else
    w += m;
}

}  // namespace tapegrad
