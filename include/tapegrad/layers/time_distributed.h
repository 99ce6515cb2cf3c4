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

 protected:
  void build_impl(const Shape& input_shape) override;
  Variable forward(const Variable& x, bool training) override;
};

}  // namespace tapegrad
