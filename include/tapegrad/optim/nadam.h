#pragma once
// Nadam, Keras 2.15, t = iterations + 1:
//   u_t = beta_1 * (1 - 0.5 * 0.96^t);  u_{t+1} = beta_1 * (1 - 0.5 * 0.96^(t+1))
//   prod_t = u_1 * ... * u_t   (one optimizer-wide value, advanced once per step)
//   m += (g - m) * (1 - beta_1);  v += (g^2 - v) * (1 - beta_2)
//   m_hat = u_{t+1} * m / (1 - prod_t * u_{t+1}) + (1 - u_t) * g / (1 - prod_t)
//   v_hat = v / (1 - beta_2^t);  w -= lr * m_hat / (sqrt(v_hat) + epsilon)
// Here, unlike Adam, epsilon is added after the bias correction.
#include "tapegrad/optim/optimizer.h"

namespace tapegrad {

struct NadamOptions {
  LearningRate learning_rate = 0.001f;
  float beta_1 = 0.9f;
  float beta_2 = 0.999f;
  float epsilon = 1e-7f;
  std::optional<float> weight_decay = std::nullopt;
  std::optional<float> clipnorm = std::nullopt;
  std::optional<float> clipvalue = std::nullopt;
  std::optional<float> global_clipnorm = std::nullopt;
};

class Nadam : public Optimizer {
 public:
  explicit Nadam(std::vector<ParameterPtr> parameters, NadamOptions options = {});
  Nadam(std::vector<ParamGroup> groups, NadamOptions options = {});
  const NadamOptions& options() const { return options_; }

 protected:
  void update(size_t index, Tensor& value, const Tensor& grad, float lr) override;
  void begin_step() override;

 private:
  NadamOptions options_;
};

}  // namespace tapegrad
