#pragma once
// Adagrad, Keras 2.15: the accumulator starts at initial_accumulator_value (0.1);
//   acc += g^2;  w -= lr * g / sqrt(acc + epsilon)   -- epsilon is inside the square root
#include "tapegrad/optim/optimizer.h"

namespace tapegrad {

struct AdagradOptions {
  LearningRate learning_rate = 0.001f;
  float initial_accumulator_value = 0.1f;
  float epsilon = 1e-7f;
  std::optional<float> weight_decay = std::nullopt;
  std::optional<float> clipnorm = std::nullopt;
  std::optional<float> clipvalue = std::nullopt;
  std::optional<float> global_clipnorm = std::nullopt;
};

class Adagrad : public Optimizer {
 public:
  explicit Adagrad(std::vector<ParameterPtr> parameters, AdagradOptions options = {});
  Adagrad(std::vector<ParamGroup> groups, AdagradOptions options = {});
  const AdagradOptions& options() const { return options_; }

 protected:
  void update(size_t index, Tensor& value, const Tensor& grad, float lr) override;

 private:
  AdagradOptions options_;
};

}  // namespace tapegrad
