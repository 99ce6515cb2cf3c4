#include "tapegrad/optim/sgd.h"

#include "optim/eigen.h"

#include "optim/options_check.h"

namespace tapegrad {

SGD::SGD(std::vector<ParameterPtr> parameters, SGDOptions options) : SGD(single_group(std::move(parameters)), options) {}

SGD::SGD(std::vector<ParamGroup> groups, SGDOptions options)
    : Optimizer("SGD", std::move(groups), config_of(options)), options_(options) {
  declare_options({{"momentum", options.momentum}, {"nesterov", options.nesterov ? 1.0f : 0.0f}},
                  [](const std::vector<float>& v, const std::string& where) {
                    check_option(where, v[0] >= 0.0f && v[0] <= 1.0f, "momentum must be in [0, 1], got ", v[0]);
                    check_option(where, v[1] == 0.0f || v[1] == 1.0f, "nesterov must be 0 or 1, got ", v[1]);
                  });
  // Momentum 0 is plain SGD and needs no slot (Keras creates one anyway; it would stay zero).
  if (any_group(0, [](float mu) { return mu != 0.0f; })) declare_slots({"momentum"}, {0.0f});
}

void SGD::update(size_t index, Tensor& value, const Tensor& grad, float lr) {
  Eigen::Map<Eigen::ArrayXf> w(value.data(), value.numel());
  Eigen::Map<const Eigen::ArrayXf> g(grad.data(), grad.numel());
  const float mu = option(index, 0);
  if (mu == 0.0f) {
    w -= lr * g;
    return;
  }
  Tensor& m_tensor = slot(index, 0);
  Eigen::Map<Eigen::ArrayXf> m(m_tensor.data(), m_tensor.numel());
  m = mu * m - lr * g;
  if (option(index, 1) != 0.0f)
    w += mu * m - lr * g;
  else
    w += m;
}

}  // namespace tapegrad
