#pragma once
// Constraint: projects a weight after each optimizer update (Keras' kernel/bias_constraint).
#include <memory>
#include <vector>

#include "core/tensor.h"

namespace tapegrad {

class Constraint {
 public:
  virtual ~Constraint() = default;
  virtual void apply(Tensor& w) const = 0;
};

// Rescales so the L2 norm over `axes` is at most max_value. Keras' default axis 0 is right for a
// Dense kernel (in, out): each unit's incoming weights. For conv kernels pass every axis but the
// last. Keras: w * clip(norm, 0, max) / (epsilon + norm), epsilon 1e-7.
class MaxNorm : public Constraint {
 public:
  explicit MaxNorm(float max_value = 2.0f, std::vector<int> axes = {0});
  void apply(Tensor& w) const override;

 private:
  float max_value_;
  std::vector<int> axes_;
};

// Sets negative weights to zero.
class NonNeg : public Constraint {
 public:
  void apply(Tensor& w) const override;
};

}  // namespace tapegrad
