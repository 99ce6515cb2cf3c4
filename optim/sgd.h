#pragma once
// SGD with momentum and Nesterov momentum, Keras' update rule and defaults:
//   m = momentum * m - lr * g;  w += m   (nesterov: w += momentum * m - lr * g)
#include "optim/optimizer.h"

namespace tapegrad {

struct SGDOptions {
  float learning_rate = 0.01f;
  float momentum = 0.0f;
  bool nesterov = false;
};

class SGD : public Optimizer {
 public:
  explicit SGD(std::vector<ParameterPtr> parameters, SGDOptions options = {});
  const SGDOptions& options() const { return options_; }
  void set_learning_rate(float lr);

 protected:
  void update(size_t index, Tensor& value, const Tensor& grad) override;

 private:
  SGDOptions options_;
  std::vector<Tensor> momentum_;  // per parameter; undefined until first used
};

}  // namespace tapegrad
