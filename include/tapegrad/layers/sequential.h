#pragma once
// Sequential: a stack of layers, each fed the previous one's output. Infers every output shape;
// summary() is Layer's. The same layer may appear twice (shared weights).
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "tapegrad/layers/layer.h"

namespace tapegrad {

class Sequential : public Layer {
 public:
  TAPEGRAD_LAYER(Sequential)
  // each layer's mask goes on to the next; the last layer's is the model's
  MaskSupport mask_support() const override { return MaskSupport::computes; }
  explicit Sequential(std::initializer_list<LayerRef> layers = {}, LayerOptions options = {});
  explicit Sequential(const std::vector<LayerRef>& layers, LayerOptions options = {});

  void add(LayerRef layer);
  const std::vector<std::shared_ptr<Layer>>& layers() const { return sublayers(); }

  Shape output_shape(const Shape& input_shape) const override;
  // The architecture as Keras 2.15's JSON (tapegrad/layers/model_json.h: tg::to_json).
  std::string to_json(int indent = -1) const;

 protected:
  void build_impl(const Shape& input_shape) override;
  Variable forward(const Variable& x, bool training) override;
};

}  // namespace tapegrad
