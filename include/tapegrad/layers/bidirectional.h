#pragma once
// Bidirectional: Keras' wrapper that runs a recurrent layer over the sequence both ways and
// merges the two outputs. It makes two new layers from the wrapped one's options (as Keras
// recreates them from its config): "forward_<name>", reading as the wrapped layer does, and
// "backward_<name>", reading the other way. With return_sequences, the backward layer's outputs
// are reversed back into the input's step order before the merge. A masked input goes to both;
// with return_sequences the masked steps' outputs are zeros (Keras forces zero_output_for_mask
// there), and the output keeps the input's mask. Several outputs come from call_all: with
// merge_mode "none" the two directions' outputs apart; with the layer's return_state, the forward
// layer's final states and then the backward one's after the output(s). Initial states come in
// Keras' list form: {x, the forward layer's states..., the backward layer's...}.
#include <memory>
#include <string>

#include "tapegrad/layers/layer.h"

namespace tapegrad {

class RecurrentLayer;

struct BidirectionalOptions {
  // How the two outputs merge: "concat" (along the features), "sum", "mul", "ave", or "none"
  // (Keras' None: the two outputs apart, from call_all).
  std::string merge_mode = "concat";
  std::string name = "";
};

class Bidirectional : public Layer {
 public:
  TAPEGRAD_LAYER(Bidirectional)
  // `layer` is an unbuilt SimpleRNN, LSTM or GRU.
  explicit Bidirectional(LayerRef layer, BidirectionalOptions options = {});
  MaskSupport mask_support() const override { return MaskSupport::computes; }
  Shape output_shape(const Shape& input_shape) const override;
  const std::string& merge_mode() const { return options_.merge_mode; }
  // The layer as given (never built: its options are what Keras' config holds), and the two made
  // from it.
  const std::shared_ptr<RecurrentLayer>& layer() const { return layer_; }
  const std::shared_ptr<RecurrentLayer>& forward_layer() const { return forward_; }
  const std::shared_ptr<RecurrentLayer>& backward_layer() const { return backward_; }

 protected:
  void build_impl(const Shape& input_shape) override;
  Variable forward(const Variable& x, bool training) override;
  bool takes_input_list() const override { return true; }
  std::vector<Variable> forward_list(const std::vector<Variable>& inputs, bool training) override;
  std::vector<Shape> output_shapes_list(const std::vector<Shape>& input_shapes) const override;
  void build_list(const std::vector<Shape>& input_shapes, const std::vector<Shape>&) override { build(input_shapes.at(0)); }

 private:
  BidirectionalOptions options_;
  std::shared_ptr<RecurrentLayer> layer_, forward_, backward_;
};

}  // namespace tapegrad
