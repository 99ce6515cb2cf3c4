#include "tapegrad/layers/bidirectional.h"

#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/error.h"
#include "tapegrad/layers/recurrent.h"

namespace tapegrad {

Bidirectional::Bidirectional(LayerRef layer, BidirectionalOptions options)
    : Layer("Bidirectional", options.name), options_(std::move(options)) {
  const std::shared_ptr<Layer>& given = layer.get();
  layer_ = std::dynamic_pointer_cast<RecurrentLayer>(given);
  if (!layer_)
    fail(label(), "wraps a recurrent layer (SimpleRNN, LSTM, GRU), got " + given->type() + " '" + given->name() + "'");
  if (layer_->built())
    fail(label(), "wraps " + layer_->type() + " '" + layer_->name() +
                      "', which is built: Bidirectional makes its forward and backward layers anew from its options "
                      "(as Keras does), so its weights would be dropped. Pass an unbuilt layer");
  if (layer_->return_state())
    fail(label(), "wraps " + layer_->type() + " '" + layer_->name() + "' with return_state, which is not supported yet");
  const std::string& m = options_.merge_mode;
  if (m != "concat" && m != "sum" && m != "mul" && m != "ave")
    fail(label(), "merge_mode must be one of concat, sum, mul, ave, got '" + m + "'" +
                      (m == "none" || m.empty() ? " (Keras' None, two outputs, is not supported yet)" : ""));
  forward_ = register_layer("forward_" + layer_->name(), layer_->copy("forward_" + layer_->name(), false));
  backward_ = register_layer("backward_" + layer_->name(), layer_->copy("backward_" + layer_->name(), true));
}

Shape Bidirectional::output_shape(const Shape& input_shape) const {
  Shape out = forward_->output_shape(input_shape);
  if (options_.merge_mode == "concat") out[out.rank() - 1] *= 2;
  return out;
}

void Bidirectional::build_impl(const Shape& input_shape) {
  forward_->build(input_shape);
  backward_->build(input_shape);
}

Variable Bidirectional::forward(const Variable& x, bool training) {
  Variable y = (*forward_)(x, training);
  Variable y_rev = (*backward_)(x, training);
  const Tensor mask = x.mask();
  if (forward_->return_sequences()) {
    y_rev = reverse(y_rev, 1);  // back into the input's step order
    if (mask.defined()) {       // Keras' zero_output_for_mask: masked steps output zeros
      const Variable keep(mask.reshape({mask.dim(0), mask.dim(1), 1}));
      y = mul(y, keep);
      y_rev = mul(y_rev, keep);
    }
  }
  const std::string& m = options_.merge_mode;
  Variable out = m == "concat" ? concat({y, y_rev}, -1) : m == "sum" ? add(y, y_rev) : m == "mul" ? mul(y, y_rev)
                                                                                      : mul(add(y, y_rev), 0.5f);
  if (forward_->return_sequences() && mask.defined()) out.set_mask(mask);
  return out;
}

}  // namespace tapegrad
