#pragma once
// SGD with momentum and Nesterov momentum, Keras 2.15's update rule and defaults:
//   m = momentum * m - lr * g;  w += m   (nesterov: w += momentum * m - lr * g, with the new m)
#include "tapegrad/optim/optimizer.h"

namespace tapegrad {

struct SGDOptions {
  LearningRate learning_rate = 0.01f;
  float momentum = 0.0f;
  bool nesterov = false;
  std::optional<float> weight_decay = std::nullopt;
  std::optional<float> clipnorm = std::nullopt;
  std::optional<float> clipvalue = std::nullopt;
  std::optional<float> global_clipnorm = std::nullopt;
};

class SGD : public Optimizer {
 public:
  explicit SGD(std::vector<ParameterPtr> parameters, SGDOptions options = {});
  SGD(std::vector<ParamGroup> groups, SGDOptions options = {});
  // The options given at construction (the learning rate in effect is learning_rate()).
  const SGDOptions& options() const { return options_; }

 protected:
  void update(size_t index, Tensor& value, const Tensor& grad, float lr) override;

 private:
  SGDOptions options_;
};

}  // namespace tapegrad
