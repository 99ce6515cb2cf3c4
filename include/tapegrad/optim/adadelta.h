#pragma once
// Adadelta, Keras 2.15, with rms(x) = sqrt(x + epsilon):
//   Eg = rho * Eg + (1 - rho) * g^2;  d = -rms(Edx) * g / rms(Eg)
//   Edx = rho * Edx + (1 - rho) * d^2;  w += lr * d
// Keras keeps a learning rate (default 0.001; the paper has none, i.e. 1.0).
#include "tapegrad/optim/optimizer.h"

namespace tapegrad {

struct AdadeltaOptions {
  LearningRate learning_rate = 0.001f;
  float rho = 0.95f;
  float epsilon = 1e-7f;
  std::optional<float> weight_decay = std::nullopt;
  std::optional<float> clipnorm = std::nullopt;
  std::optional<float> clipvalue = std::nullopt;
  std::optional<float> global_clipnorm = std::nullopt;
};

class Adadelta : public Optimizer {
 public:
  explicit Adadelta(std::vector<ParameterPtr> parameters, AdadeltaOptions options = {});
  Adadelta(std::vector<ParamGroup> groups, AdadeltaOptions options = {});
  const AdadeltaOptions& options() const { return options_; }

 protected:
  void update(size_t index, Tensor& value, const Tensor& grad, float lr) override;

 private:
  AdadeltaOptions options_;
};

}  // namespace tapegrad
