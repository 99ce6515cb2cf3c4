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
  const std::string& m = options_.merge_mode;
  if (m != "concat" && m != "sum" && m != "mul" && m != "ave" && m != "none")
    fail(label(), "merge_mode must be one of concat, sum, mul, ave, none, got '" + m + "'");
  forward_ = register_layer("forward_" + layer_->name(), layer_->copy("forward_" + layer_->name(), false));
  backward_ = register_layer("backward_" + layer_->name(), layer_->copy("backward_" + layer_->name(), true));
}

Shape Bidirectional::output_shape(const Shape& input_shape) const {
  Shape out = forward_->output_shape(input_shape);
  if (options_.merge_mode == "concat") out[out.rank() - 1] *= 2;
  return out;
}

std::vector<Shape> Bidirectional::output_shapes_list(const std::vector<Shape>& input_shapes) const {
  const size_t n = static_cast<size_t>(layer_->state_count());
  if (input_shapes.size() != 1 && input_shapes.size() != 1 + 2 * n)
    fail(label(), "takes its input and " + std::to_string(2 * n) + " initial states (the forward layer's " + std::to_string(n) +
                      ", then the backward layer's), got " + std::to_string(input_shapes.size() - 1));
  const Shape one = forward_->output_shape(input_shapes.at(0));  // also checks the input
  for (size_t i = 1; i < input_shapes.size(); ++i)
    if (input_shapes[i] != Shape({layer_->units()}))
      fail(label(), "initial state " + std::to_string(i - 1) + " " + with_batch_str(input_shapes[i]) + " must be (None, " +
                        std::to_string(layer_->units()) + ")");
  std::vector<Shape> out;
  if (options_.merge_mode == "none") out = {one, one};
  else out = {output_shape(input_shapes[0])};
  if (layer_->return_state()) out.resize(out.size() + 2 * n, Shape({layer_->units()}));
  return out;
}

void Bidirectional::build_impl(const Shape& input_shape) {
  forward_->build(input_shape);
  backward_->build(input_shape);
}

Variable Bidirectional::forward(const Variable& x, bool training) {
  std::vector<Variable> out = forward_list({x}, training);
  if (out.size() != 1)
    fail(label(), "returns " + std::to_string(out.size()) + " tensors (merge_mode none or return_state): call_all({x}) returns them all");
  return out[0];
}

std::vector<Variable> Bidirectional::forward_list(const std::vector<Variable>& inputs, bool training) {
  const Variable& x = inputs.at(0);
  const size_t n = static_cast<size_t>(layer_->state_count());
  std::vector<Variable> fwd_in{x}, bwd_in{x};
  if (inputs.size() > 1) {
    fwd_in.insert(fwd_in.end(), inputs.begin() + 1, inputs.begin() + 1 + static_cast<long>(n));
    bwd_in.insert(bwd_in.end(), inputs.begin() + 1 + static_cast<long>(n), inputs.end());
  }
  std::vector<Variable> f = forward_->call_all(fwd_in, training), b = backward_->call_all(bwd_in, training);
  Variable y = f[0], y_rev = b[0];
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
  std::vector<Variable> out;
  if (m == "none") {
    out = {y, y_rev};
  } else {
    out = {m == "concat" ? concat({y, y_rev}, -1) : m == "sum" ? add(y, y_rev) : m == "mul" ? mul(y, y_rev)
                                                                                 : mul(add(y, y_rev), 0.5f)};
  }
  if (forward_->return_sequences() && mask.defined())
    for (Variable& o : out) o.set_mask(mask);
  out.insert(out.end(), f.begin() + 1, f.end());  // the final states, forward then backward
  out.insert(out.end(), b.begin() + 1, b.end());
  return out;
}

}  // namespace tapegrad
