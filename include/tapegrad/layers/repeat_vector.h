#pragma once
// RepeatVector(n): repeats each sample's feature vector n times, (batch, features) ->
// (batch, n, features), as Keras' (e.g. to feed an encoder's output to every decoder step).
#include <string>

#include "tapegrad/layers/layer.h"

namespace tapegrad {

class RepeatVector : public Layer {
 public:
  TAPEGRAD_LAYER(RepeatVector)
  explicit RepeatVector(int64_t n, LayerOptions options = {});
  Shape output_shape(const Shape& input_shape) const override;
  int64_t n() const { return n_; }

 protected:
  Variable forward(const Variable& x, bool training) override;

 private:
  int64_t n_;
};

}  // namespace tapegrad
