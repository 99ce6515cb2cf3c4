#include "tapegrad/optim/adamax.h"

#include "optim/eigen.h"
#include <cmath>

#include "optim/options_check.h"

namespace tapegrad {

Adamax::Adamax(std::vector<ParameterPtr> parameters, AdamaxOptions options)
    : Adamax(single_group(std::move(parameters)), options) {}

Adamax::Adamax(std::vector<ParamGroup> groups, AdamaxOptions options)
    : Optimizer("Adamax", std::move(groups), config_of(options)), options_(options) {
  declare_options({{"beta_1", options.beta_1}, {"beta_2", options.beta_2}, {"epsilon", options.epsilon}},
                  [](const std::vector<float>& v, const std::string& where) {
                    check_option(where, v[0] >= 0.0f && v[0] < 1.0f, "beta_1 must be in [0, 1), got ", v[0]);
                    check_option(where, v[1] >= 0.0f && v[1] <= 1.0f, "beta_2 must be in [0, 1], got ", v[1]);
                    check_option(where, v[2] >= 0.0f, "epsilon must be >= 0, got ", v[2]);
                  });
  declare_slots({"m", "u"}, {0.0f, 0.0f});
}

void Adamax::update(size_t index, Tensor& value, const Tensor& grad, float lr) {
  const int64_t n = value.numel();
  Eigen::Map<Eigen::ArrayXf> w(value.data(), n);
  Eigen::Map<const Eigen::ArrayXf> g(grad.data(), n);
  const float b1 = option(index, 0), b2 = option(index, 1), eps = option(index, 2);
  const float correction = static_cast<float>(1.0 - std::pow(static_cast<double>(b1), static_cast<double>(local_step())));
  Eigen::Map<Eigen::ArrayXf> m(slot(index, 0).data(), n), u(slot(index, 1).data(), n);
  m += (g - m) * (1.0f - b1);
  u = (b2 * u).max(g.abs());
  w -= (lr * m) / (correction * (u + eps));
}

}  // namespace tapegrad
