#include "tapegrad/optim/rmsprop.h"

#include "optim/eigen.h"

#include "optim/options_check.h"

namespace tapegrad {

RMSprop::RMSprop(std::vector<ParameterPtr> parameters, RMSpropOptions options)
    : RMSprop(single_group(std::move(parameters)), options) {}

RMSprop::RMSprop(std::vector<ParamGroup> groups, RMSpropOptions options)
    : Optimizer("RMSprop", std::move(groups), config_of(options)), options_(options) {
  declare_options({{"rho", options.rho}, {"momentum", options.momentum}, {"epsilon", options.epsilon}},
                  [](const std::vector<float>& v, const std::string& where) {
                    check_option(where, v[0] >= 0.0f && v[0] <= 1.0f, "rho must be in [0, 1], got ", v[0]);
                    check_option(where, v[1] >= 0.0f && v[1] <= 1.0f, "momentum must be in [0, 1], got ", v[1]);
                    check_option(where, v[2] >= 0.0f, "epsilon must be >= 0, got ", v[2]);
                  },
                  {{"centered", "it decides the optimizer's slots"}});
  // Slots in a fixed order; the optional ones only when their option is on (in some group).
  std::vector<std::string> names{"velocity"};
  momentum_slot_ = any_group(1, [](float mu) { return mu > 0.0f; });
  if (momentum_slot_) names.push_back("momentum");
  if (options.centered) names.push_back("average_gradient");
  declare_slots(names, std::vector<float>(names.size(), 0.0f));
}

void RMSprop::update(size_t index, Tensor& value, const Tensor& grad, float lr) {
  const int64_t n = value.numel();
  const float rho = option(index, 0), momentum = option(index, 1), eps = option(index, 2);
  Eigen::Map<Eigen::ArrayXf> w(value.data(), n);
  Eigen::Map<const Eigen::ArrayXf> g(grad.data(), n);
  Eigen::Map<Eigen::ArrayXf> v(slot(index, 0).data(), n);
  v = rho * v + (1.0f - rho) * g.square();
  // den = v + eps, or v - a^2 + eps when centered: a plain sqrt (Eigen's rsqrt may approximate).
  auto apply = [&](const auto& denominator) {
    if (momentum > 0.0f) {
      Eigen::Map<Eigen::ArrayXf> mom(slot(index, 1).data(), n);
      mom = momentum * mom + lr * g / denominator.sqrt();
      w -= mom;
    } else {
      w -= lr * g / denominator.sqrt();
    }
  };
  if (options_.centered) {
    Eigen::Map<Eigen::ArrayXf> a(slot(index, momentum_slot_ ? 2 : 1).data(), n);
    a = rho * a + (1.0f - rho) * g;
    apply(v - a.square() + eps);
  } else {
    apply(v + eps);
  }
}

}  // namespace tapegrad
