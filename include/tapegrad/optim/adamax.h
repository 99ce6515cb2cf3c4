#pragma once
// Adamax (Adam with the infinity norm), Keras 2.15, t = iterations + 1:
//   m += (g - m) * (1 - beta_1);  u = max(beta_2 * u, |g|)
//   w -= lr * m / ((1 - beta_1^t) * (u + epsilon))
#include "tapegrad/optim/optimizer.h"

namespace tapegrad {

struct AdamaxOptions {
  LearningRate learning_rate = 0.001f;
  float beta_1 = 0.9f;
  float beta_2 = 0.999f;
  float epsilon = 1e-7f;
  std::optional<float> weight_decay = std::nullopt;
  std::optional<float> clipnorm = std::nullopt;
  std::optional<float> clipvalue = std::nullopt;
  std::optional<float> global_clipnorm = std::nullopt;
};

class Adamax : public Optimizer {
 public:
  explicit Adamax(std::vector<ParameterPtr> parameters, AdamaxOptions options = {});
  Adamax(std::vector<ParamGroup> groups, AdamaxOptions options = {});
  const AdamaxOptions& options() const { return options_; }

 protected:
  void update(size_t index, Tensor& value, const Tensor& grad, float lr) override;

 private:
  AdamaxOptions options_;
};

}  // namespace tapegrad
