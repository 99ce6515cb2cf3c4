#pragma once
// Optimizer: step() runs, under NoGradGuard, for each trainable parameter that has a gradient:
//   1. gradient hooks: the weight regularizer adds its penalty's gradient;
//   2. the update rule of the subclass (SGD, ...), with per-parameter state;
//   3. the constraint projects the new value.
// zero_grad() forgets every parameter's gradient.
#include <cstdint>
#include <vector>

#include "layers/parameter.h"

namespace tapegrad {

class Optimizer {
 public:
  explicit Optimizer(std::vector<ParameterPtr> parameters);
  virtual ~Optimizer() = default;

  void zero_grad();
  void step();

  // Completed steps (Keras' `iterations`).
  int64_t iterations() const { return iterations_; }
  const std::vector<ParameterPtr>& parameters() const { return parameters_; }

 protected:
  // Applies the update rule to parameter `index` (its position in parameters()) in place.
  virtual void update(size_t index, Tensor& value, const Tensor& grad) = 0;

 private:
  std::vector<ParameterPtr> parameters_;
  int64_t iterations_ = 0;
};

}  // namespace tapegrad
