#pragma once
// TimeDistributed: applies one layer (any Layer: Dense, Conv2D, a Sequential) to every time step
// of (batch, time, ...) with a single set of weights. The steps are folded into the batch,
// (batch, time, ...) -> (batch * time, ...), the layer runs once, and the result is unfolded to
// (batch, time, ...inner output).
#include <memory>
#include <string>

#include "tapegrad/layers/layer.h"

namespace tapegrad {

class TimeDistributed : public Layer {
 public:
  TAPEGRAD_LAYER(TimeDistributed)
  explicit TimeDistributed(LayerRef layer, LayerOptions options = {});

  // (time, ...) -> (time, ...inner output for (...)).
  Shape output_shape(const Shape& input_shape) const override;
  const std::shared_ptr<Layer>& layer() const { return sublayers()[0]; }
  // A mask over the time steps stays with them when the inner layer would pass one on (Dense,
  // Dropout, ...); the inner layer itself runs on the folded steps without it.
  MaskSupport mask_support() const override {
    return layer()->mask_support() == MaskSupport::passes ? MaskSupport::passes : MaskSupport::refuses;
  }

 protected:
  void build_impl(const Shape& input_shape) override;
  Variable forward(const Variable& x, bool training) override;
};

}  // namespace tapegrad
