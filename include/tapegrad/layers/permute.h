#pragma once
// Permute(dims): reorders the dims of each sample, Keras' convention: `dims` is a permutation of
// 1..rank (the batch dim 0 stays put); Permute({2, 1}) turns (batch, a, b) into (batch, b, a).
#include <string>
#include <vector>

#include "tapegrad/layers/layer.h"

namespace tapegrad {

class Permute : public Layer {
 public:
  TAPEGRAD_LAYER(Permute)
  explicit Permute(std::vector<int> dims, LayerOptions options = {});
  Shape output_shape(const Shape& input_shape) const override;
  const std::vector<int>& dims() const { return dims_; }

 protected:
  Variable forward(const Variable& x, bool training) override;

 private:
  std::vector<int> dims_;
};

}  // namespace tapegrad
