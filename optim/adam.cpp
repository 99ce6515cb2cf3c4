#include "tapegrad/optim/adam.h"

#include "optim/eigen.h"
#include <cmath>

#include "optim/options_check.h"

namespace tapegrad {

namespace {
AdamOptions as_adam(const AdamWOptions& o) {
  return {.learning_rate = o.learning_rate, .beta_1 = o.beta_1, .beta_2 = o.beta_2, .epsilon = o.epsilon,
          .amsgrad = o.amsgrad, .weight_decay = o.weight_decay, .clipnorm = o.clipnorm, .clipvalue = o.clipvalue,
          .global_clipnorm = o.global_clipnorm};
}
}  // namespace

Adam::Adam(std::vector<ParameterPtr> parameters, AdamOptions options)
    : Adam("Adam", single_group(std::move(parameters)), options) {}

Adam::Adam(std::vector<ParamGroup> groups, AdamOptions options) : Adam("Adam", std::move(groups), options) {}

Adam::Adam(std::string name, std::vector<ParamGroup> groups, AdamOptions options)
    : Optimizer(std::move(name), std::move(groups), config_of(options)), options_(options) {
  declare_options({{"beta_1", options.beta_1}, {"beta_2", options.beta_2}, {"epsilon", options.epsilon}},
                  [](const std::vector<float>& v, const std::string& where) {
                    check_option(where, v[0] >= 0.0f && v[0] < 1.0f, "beta_1 must be in [0, 1), got ", v[0]);
                    check_option(where, v[1] >= 0.0f && v[1] < 1.0f, "beta_2 must be in [0, 1), got ", v[1]);
                    check_option(where, v[2] >= 0.0f, "epsilon must be >= 0, got ", v[2]);
                  },
                  {{"amsgrad", "it decides the optimizer's slots"}});
  if (options.amsgrad)
    declare_slots({"m", "v", "v_hat"}, {0.0f, 0.0f, 0.0f});
  else
    declare_slots({"m", "v"}, {0.0f, 0.0f});
}

void Adam::update(size_t index, Tensor& value, const Tensor& grad, float lr) {
  const double t = static_cast<double>(local_step());
  const float b1 = option(index, 0), b2 = option(index, 1), eps = option(index, 2);
  const float alpha = static_cast<float>(lr * std::sqrt(1.0 - std::pow(static_cast<double>(b2), t)) /
                                         (1.0 - std::pow(static_cast<double>(b1), t)));
  Eigen::Map<Eigen::ArrayXf> w(value.data(), value.numel());
  Eigen::Map<const Eigen::ArrayXf> g(grad.data(), grad.numel());
  Eigen::Map<Eigen::ArrayXf> m(slot(index, 0).data(), value.numel()), v(slot(index, 1).data(), value.numel());
  m += (g - m) * (1.0f - b1);
  v += (g.square() - v) * (1.0f - b2);
  if (options_.amsgrad) {
    Eigen::Map<Eigen::ArrayXf> v_hat(slot(index, 2).data(), value.numel());
    v_hat = v_hat.max(v);
    w -= m * alpha / (v_hat.sqrt() + eps);
  } else {
    w -= m * alpha / (v.sqrt() + eps);
  }
}

AdamW::AdamW(std::vector<ParameterPtr> parameters, AdamWOptions options)
    : AdamW(single_group(std::move(parameters)), options) {}

AdamW::AdamW(std::vector<ParamGroup> groups, AdamWOptions options) : Adam("AdamW", std::move(groups), as_adam(options)) {}

}  // namespace tapegrad
