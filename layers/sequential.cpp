#include "tapegrad/layers/sequential.h"

#include "tapegrad/core/error.h"
#include "tapegrad/layers/activation_layers.h"
#include "tapegrad/layers/batch_normalization.h"

namespace tapegrad {

Sequential::Sequential(std::initializer_list<LayerRef> layers, LayerOptions options)
    : Sequential(std::vector<LayerRef>(layers), std::move(options)) {}

Sequential::Sequential(const std::vector<LayerRef>& layers, LayerOptions options)
    : Layer("Sequential", std::move(options.name)) {
  for (const auto& l : layers) add(l);
}

void Sequential::add(LayerRef layer) {
  if (built()) fail(label(), "cannot add layers after the model is built");
  register_layer(layer.get());
}

Shape Sequential::output_shape(const Shape& input_shape) const {
  if (layers().empty()) fail(label(), "has no layers");
  Shape s = input_shape;
  for (const auto& l : layers()) s = l->output_shape(s);
  return s;
}

void Sequential::build_impl(const Shape& input_shape) {
  Shape s = input_shape;
  for (const auto& l : layers()) {
    l->build(s);
    s = l->output_shape(s);
  }
}

Variable Sequential::forward(const Variable& x, bool training) {
  const auto& ls = layers();
  Variable y = x;
  for (size_t i = 0; i < ls.size(); ++i) {
    // BatchNormalization then a plain ReLU: one fused op, the same values (see call_with_relu).
    if (i + 1 < ls.size())
      if (auto* bn = dynamic_cast<BatchNormalization*>(ls[i].get()); bn && !bn->has_activity_regularizer())
        if (const auto* r = dynamic_cast<const ReLU*>(ls[i + 1].get()); r && r->plain()) {
          y = bn->call_with_relu(y, training);
          ++i;
          continue;
        }
    y = (*ls[i])(y, training);
  }
  return y;
}

}  // namespace tapegrad
