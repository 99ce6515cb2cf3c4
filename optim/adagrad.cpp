#include "tapegrad/optim/adagrad.h"

#include "optim/eigen.h"
#include <cmath>

#include "optim/options_check.h"

namespace tapegrad {

Adagrad::Adagrad(std::vector<ParameterPtr> parameters, AdagradOptions options)
    : Adagrad(single_group(std::move(parameters)), options) {}

Adagrad::Adagrad(std::vector<ParamGroup> groups, AdagradOptions options)
    : Optimizer("Adagrad", std::move(groups), config_of(options)), options_(options) {
  require(options.initial_accumulator_value >= 0.0f,
          "initial_accumulator_value must be >= 0, got " + format_number(options.initial_accumulator_value));
  declare_options({{"epsilon", options.epsilon}},
                  [](const std::vector<float>& v, const std::string& where) {
                    check_option(where, v[0] >= 0.0f, "epsilon must be >= 0, got ", v[0]);
                  },
                  {{"initial_accumulator_value", "it fills the slots, which every group shares"}});
  declare_slots({"accumulator"}, {options.initial_accumulator_value});
}

void Adagrad::update(size_t index, Tensor& value, const Tensor& grad, float lr) {
  const int64_t n = value.numel();
  Eigen::Map<Eigen::ArrayXf> w(value.data(), n);
  Eigen::Map<const Eigen::ArrayXf> g(grad.data(), n);
  Eigen::Map<Eigen::ArrayXf> acc(slot(index, 0).data(), n);
  acc += g.square();
  w -= lr * g / (acc + option(index, 0)).sqrt();
}

}  // namespace tapegrad
