#include "tapegrad/optim/adamax.h"

#include "optim/eigen.h"
#include <cmath>

#include "optim/options_check.h"

namespace tapegrad {

Adamax::Adamax(std::vector<ParameterPtr> parameters, AdamaxOptions options)
    : Adamax(single_group(std::move(parameters)), options) {}

Adamax::Adamax(std::vector<ParamGroup> groups, AdamaxOptions options)
    : Optimizer("Adamax", std::move(groups), config_of(options)), options_(options) {
  require(options.beta_1 >= 0.0f && options.beta_1 < 1.0f, "beta_1 must be in [0, 1), got " + format_number(options.beta_1));
  require(options.beta_2 >= 0.0f && options.beta_2 <= 1.0f, "beta_2 must be in [0, 1], got " + format_number(options.beta_2));
  require(options.epsilon >= 0.0f, "epsilon must be >= 0, got " + format_number(options.epsilon));
  declare_slots({"m", "u"}, {0.0f, 0.0f});
}

void Adamax::update(size_t index, Tensor& value, const Tensor& grad, float lr) {
  const int64_t n = value.numel();
  Eigen::Map<Eigen::ArrayXf> w(value.data(), n);
  Eigen::Map<const Eigen::ArrayXf> g(grad.data(), n);
  const float b1 = options_.beta_1, b2 = options_.beta_2, eps = options_.epsilon;
  const float correction = static_cast<float>(1.0 - std::pow(static_cast<double>(b1), static_cast<double>(local_step())));
  Eigen::Map<Eigen::ArrayXf> m(slot(index, 0).data(), n), u(slot(index, 1).data(), n);
  m += (g - m) * (1.0f - b1);
  u = (b2 * u).max(g.abs());
  w -= (lr * m) / (correction * (u + eps));
}

}  // namespace tapegrad
