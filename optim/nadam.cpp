#include "tapegrad/optim/nadam.h"

#include "optim/eigen.h"
#include <cmath>

#include "optim/options_check.h"

namespace tapegrad {

Nadam::Nadam(std::vector<ParameterPtr> parameters, NadamOptions options)
    : Nadam(single_group(std::move(parameters)), options) {}

Nadam::Nadam(std::vector<ParamGroup> groups, NadamOptions options)
    : Optimizer("Nadam", std::move(groups), config_of(options)), options_(options) {
  require(options.beta_1 >= 0.0f && options.beta_1 < 1.0f, "beta_1 must be in [0, 1), got " + format_number(options.beta_1));
  declare_options({{"beta_2", options.beta_2}, {"epsilon", options.epsilon}},
                  [](const std::vector<float>& v, const std::string& where) {
                    check_option(where, v[0] >= 0.0f && v[0] < 1.0f, "beta_2 must be in [0, 1), got ", v[0]);
                    check_option(where, v[1] >= 0.0f, "epsilon must be >= 0, got ", v[1]);
                  },
                  {{"beta_1", "its momentum schedule is one product over all parameters"}});
  declare_slots({"m", "v"}, {0.0f, 0.0f});
  globals() = {1.0};  // the momentum product prod_t, before any step
}

void Nadam::update(size_t index, Tensor& value, const Tensor& grad, float lr) {
  const int64_t n = value.numel();
  Eigen::Map<Eigen::ArrayXf> w(value.data(), n);
  Eigen::Map<const Eigen::ArrayXf> g(grad.data(), n);
  const double t = static_cast<double>(local_step()), b1 = options_.beta_1, b2 = option(index, 0);
  const double u_t = b1 * (1.0 - 0.5 * std::pow(0.96, t)), u_next = b1 * (1.0 - 0.5 * std::pow(0.96, t + 1.0));
  const double prod = globals()[0];  // already advanced to prod_t by begin_step()
  const float c_m = static_cast<float>(u_next / (1.0 - prod * u_next)), c_g = static_cast<float>((1.0 - u_t) / (1.0 - prod));
  const float c_v = static_cast<float>(1.0 / (1.0 - std::pow(b2, t)));
  const float fb1 = options_.beta_1, fb2 = option(index, 0), eps = option(index, 1);
  Eigen::Map<Eigen::ArrayXf> m(slot(index, 0).data(), n), v(slot(index, 1).data(), n);
  m += (g - m) * (1.0f - fb1);
  v += (g.square() - v) * (1.0f - fb2);
  w -= lr * (c_m * m + c_g * g) / ((v * c_v).sqrt() + eps);
}

void Nadam::begin_step() {
  const double t = static_cast<double>(local_step());
  globals()[0] *= options_.beta_1 * (1.0 - 0.5 * std::pow(0.96, t));
}

}  // namespace tapegrad
