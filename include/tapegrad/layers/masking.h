#pragma once
// Masking: Keras' layer that marks the steps to skip. A step whose features all equal
// `mask_value` is masked: the output is the input with those steps zeroed, and its mask
// (batch, steps, ...) is 1 where any feature differs from mask_value. Layers after it that take
// masks (the recurrent layers, GlobalAveragePooling1D, ...) skip those steps; the others refuse.
#include <string>

#include "tapegrad/layers/layer.h"

namespace tapegrad {

struct MaskingOptions {
  float mask_value = 0.0f;
  std::string name = "";
};

class Masking : public Layer {
 public:
  TAPEGRAD_LAYER(Masking)
  explicit Masking(MaskingOptions options = {});
  // The input's mask is replaced by this layer's own (Keras').
  MaskSupport mask_support() const override { return MaskSupport::computes; }
  Shape output_shape(const Shape& input_shape) const override;
  float mask_value() const { return options_.mask_value; }
  const MaskingOptions& options() const { return options_; }

 protected:
  Variable forward(const Variable& x, bool training) override;

 private:
  MaskingOptions options_;
};

}  // namespace tapegrad
