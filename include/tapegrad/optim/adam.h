#pragma once
// Adam (with AMSGrad) and AdamW, Keras 2.15's update rule, t = iterations + 1:
//   alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
//   m += (g - m) * (1 - beta_1);  v += (g^2 - v) * (1 - beta_2)
//   amsgrad: v_hat = max(v_hat, v), used in place of v
//   w -= m * alpha / (sqrt(v) + epsilon)
// Epsilon is added to the square root of the *uncorrected* v (the bias corrections are folded
// into alpha), unlike PyTorch's sqrt(v / (1 - beta_2^t)) + eps.
// AdamW is the same rule with decoupled weight decay w -= w * weight_decay * lr before it.
#include "tapegrad/optim/optimizer.h"

namespace tapegrad {

struct AdamOptions {
  LearningRate learning_rate = 0.001f;
  float beta_1 = 0.9f;
  float beta_2 = 0.999f;
  float epsilon = 1e-7f;
  bool amsgrad = false;
  std::optional<float> weight_decay = std::nullopt;
  std::optional<float> clipnorm = std::nullopt;
  std::optional<float> clipvalue = std::nullopt;
  std::optional<float> global_clipnorm = std::nullopt;
};

class Adam : public Optimizer {
 public:
  explicit Adam(std::vector<ParameterPtr> parameters, AdamOptions options = {});
  Adam(std::vector<ParamGroup> groups, AdamOptions options = {});
  const AdamOptions& options() const { return options_; }

 protected:
  Adam(std::string name, std::vector<ParamGroup> groups, AdamOptions options);
  void update(size_t index, Tensor& value, const Tensor& grad, float lr) override;

 private:
  AdamOptions options_;
};

// Keras' AdamW: Adam whose weight_decay defaults to 0.004.
struct AdamWOptions {
  LearningRate learning_rate = 0.001f;
  float weight_decay = 0.004f;
  float beta_1 = 0.9f;
  float beta_2 = 0.999f;
  float epsilon = 1e-7f;
  bool amsgrad = false;
  std::optional<float> clipnorm = std::nullopt;
  std::optional<float> clipvalue = std::nullopt;
  std::optional<float> global_clipnorm = std::nullopt;
};

class AdamW : public Adam {
 public:
  explicit AdamW(std::vector<ParameterPtr> parameters, AdamWOptions options = {});
  AdamW(std::vector<ParamGroup> groups, AdamWOptions options = {});
};

}  // namespace tapegrad
