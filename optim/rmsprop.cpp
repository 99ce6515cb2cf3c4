#include "tapegrad/optim/rmsprop.h"

#include "optim/eigen.h"

#include "optim/options_check.h"

namespace tapegrad {

RMSprop::RMSprop(std::vector<ParameterPtr> parameters, RMSpropOptions options)
    : RMSprop(single_group(std::move(parameters)), options) {}

RMSprop::RMSprop(std::vector<ParamGroup> groups, RMSpropOptions options)
    : Optimizer("RMSprop", std::move(groups), config_of(options)), options_(options) {
  require(options.rho >= 0.0f && options.rho <= 1.0f, "rho must be in [0, 1], got " + format_number(options.rho));
  require(options.momentum >= 0.0f && options.momentum <= 1.0f,
          "momentum must be in [0, 1], got " + format_number(options.momentum));
  require(options.epsilon >= 0.0f, "epsilon must be >= 0, got " + format_number(options.epsilon));
  // Slots in a fixed order; the optional ones only when their option is on.
  std::vector<std::string> names{"velocity"};
  if (options.momentum > 0.0f) names.push_back("momentum");
  if (options.centered) names.push_back("average_gradient");
  declare_slots(names, std::vector<float>(names.size(), 0.0f));
}

void RMSprop::update(size_t index, Tensor& value, const Tensor& grad, float lr) {
  const int64_t n = value.numel();
  const float rho = options_.rho, eps = options_.epsilon;
  Eigen::Map<Eigen::ArrayXf> w(value.data(), n);
  Eigen::Map<const Eigen::ArrayXf> g(grad.data(), n);
  Eigen::Map<Eigen::ArrayXf> v(slot(index, 0).data(), n);
  v = rho * v + (1.0f - rho) * g.square();
  // den = v + eps, or v - a^2 + eps when centered: a plain sqrt (Eigen's rsqrt may approximate).
  auto apply = [&](const auto& denominator) {
    if (options_.momentum > 0.0f) {
      Eigen::Map<Eigen::ArrayXf> mom(slot(index, 1).data(), n);
      mom = options_.momentum * mom + lr * g / denominator.sqrt();
      w -= mom;
    } else {
      w -= lr * g / denominator.sqrt();
    }
  };
  if (options_.centered) {
    Eigen::Map<Eigen::ArrayXf> a(slot(index, options_.momentum > 0.0f ? 2 : 1).data(), n);
    a = rho * a + (1.0f - rho) * g;
    apply(v - a.square() + eps);
  } else {
    apply(v + eps);
  }
}

}  // namespace tapegrad
