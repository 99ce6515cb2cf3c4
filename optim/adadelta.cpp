#include "tapegrad/optim/adadelta.h"

#include "optim/eigen.h"
#include <cmath>

#include "optim/options_check.h"

namespace tapegrad {

Adadelta::Adadelta(std::vector<ParameterPtr> parameters, AdadeltaOptions options)
    : Adadelta(single_group(std::move(parameters)), options) {}

Adadelta::Adadelta(std::vector<ParamGroup> groups, AdadeltaOptions options)
    : Optimizer("Adadelta", std::move(groups), config_of(options)), options_(options) {
  declare_options({{"rho", options.rho}, {"epsilon", options.epsilon}},
                  [](const std::vector<float>& v, const std::string& where) {
                    check_option(where, v[0] >= 0.0f && v[0] <= 1.0f, "rho must be in [0, 1], got ", v[0]);
                    check_option(where, v[1] >= 0.0f, "epsilon must be >= 0, got ", v[1]);
                  });
  declare_slots({"accumulated_grad", "accumulated_delta_var"}, {0.0f, 0.0f});
}

void Adadelta::update(size_t index, Tensor& value, const Tensor& grad, float lr) {
  const int64_t n = value.numel();
  Eigen::Map<Eigen::ArrayXf> w(value.data(), n);
  Eigen::Map<const Eigen::ArrayXf> g(grad.data(), n);
  const float rho = option(index, 0), eps = option(index, 1);
  Eigen::Map<Eigen::ArrayXf> eg(slot(index, 0).data(), n), edx(slot(index, 1).data(), n);
  eg = rho * eg + (1.0f - rho) * g.square();
  // The step d is needed twice; computed element by element to stay free of a temporary.
  for (int64_t i = 0; i < n; ++i) {
    const float d = -std::sqrt(edx[i] + eps) * g[i] / std::sqrt(eg[i] + eps);
    edx[i] = rho * edx[i] + (1.0f - rho) * d * d;
    w[i] += lr * d;
  }
}

}  // namespace tapegrad
