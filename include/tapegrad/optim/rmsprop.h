#pragma once
// RMSprop, Keras 2.15's update rule:
//   v = rho * v + (1 - rho) * g^2
//   centered: a = rho * a + (1 - rho) * g;  den = v - a^2 + eps   (otherwise den = v + eps)
//   inc = lr * g / sqrt(den)           -- epsilon is inside the square root
//   momentum > 0: mom = momentum * mom + inc;  w -= mom   (otherwise w -= inc)
#include "tapegrad/optim/optimizer.h"

namespace tapegrad {

struct RMSpropOptions {
  LearningRate learning_rate = 0.001f;
  float rho = 0.9f;
  float momentum = 0.0f;
  float epsilon = 1e-7f;
  bool centered = false;
  std::optional<float> weight_decay = std::nullopt;
  std::optional<float> clipnorm = std::nullopt;
  std::optional<float> clipvalue = std::nullopt;
  std::optional<float> global_clipnorm = std::nullopt;
};

class RMSprop : public Optimizer {
 public:
  explicit RMSprop(std::vector<ParameterPtr> parameters, RMSpropOptions options = {});
  RMSprop(std::vector<ParamGroup> groups, RMSpropOptions options = {});
  const RMSpropOptions& options() const { return options_; }

 protected:
  void update(size_t index, Tensor& value, const Tensor& grad, float lr) override;

 private:
  RMSpropOptions options_;
  bool momentum_slot_ = false;  // some group uses momentum
};

}  // namespace tapegrad
