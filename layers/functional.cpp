// The functional API: symbolic calls record GraphNodes; Model orders them once (depth first from
// the outputs, each node after its inputs) and runs them in that order on real batches.
#include "tapegrad/layers/functional.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "tapegrad/core/error.h"

namespace tapegrad {

const Shape& SymbolicTensor::shape() const { return node().shapes.at(static_cast<size_t>(index_)); }

const GraphNode& SymbolicTensor::node() const {
  if (!node_) fail("SymbolicTensor", "is undefined (default-constructed)");
  return *node_;
}

std::string SymbolicTensor::str() const {
  if (!node_) return "undefined";
  const std::string which = node_->shapes.size() > 1 ? " (output " + std::to_string(index_) + ")" : "";
  return with_batch_str(shape()) + " from " + node_->layer->type() + " '" + node_->layer->name() + "'" + which;
}

// ---- Layer's symbolic calls ----

SymbolicTensor Layer::operator()(const SymbolicTensor& x) & { return (*this)(std::vector<SymbolicTensor>{x}); }
SymbolicTensor Layer::operator()(const SymbolicTensor& x) && { return std::move(*this)(std::vector<SymbolicTensor>{x}); }

std::shared_ptr<Layer> Layer::graph_owner() & {
  std::shared_ptr<Layer> self = weak_from_this().lock();
  if (!self)
    fail(label(), "was called on a symbolic tensor, but the graph cannot own it: call a temporary (tg::" + type_ +
                      "(...)(x)), or make the layer with std::make_shared<" + type_ +
                      ">(...) and call (*layer)(x), which also shares it between calls");
  return self;
}

namespace {
SymbolicTensor only_output(const Layer& layer, std::vector<SymbolicTensor> outs) {
  if (outs.size() != 1)
    fail(layer.type() + " '" + layer.name() + "'", "has " + std::to_string(outs.size()) +
                                                      " outputs; call_all() returns them all (Keras: output, *states = layer(x))");
  return outs[0];
}
}  // namespace

SymbolicTensor Layer::operator()(const std::vector<SymbolicTensor>& inputs) & {
  return only_output(*this, call_symbolic(graph_owner(), inputs));
}

SymbolicTensor Layer::operator()(const std::vector<SymbolicTensor>& inputs) && {
  std::shared_ptr<Layer> self = weak_from_this().lock();
  if (!self) self = std::move(*this).moved_to_shared();
  return only_output(*self, self->call_symbolic(self, inputs));
}

std::vector<SymbolicTensor> Layer::call_all(const std::vector<SymbolicTensor>& inputs) & {
  return call_symbolic(graph_owner(), inputs);
}

std::vector<SymbolicTensor> Layer::call_all(const std::vector<SymbolicTensor>& inputs) && {
  std::shared_ptr<Layer> self = weak_from_this().lock();
  if (!self) self = std::move(*this).moved_to_shared();
  return self->call_symbolic(self, inputs);
}

std::vector<SymbolicTensor> Layer::call_symbolic(std::shared_ptr<Layer> self, const std::vector<SymbolicTensor>& inputs) {
  if (inputs.empty()) fail(label(), "was called on an empty list of symbolic tensors");
  std::vector<Shape> shapes;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) fail(label(), "symbolic input " + std::to_string(i) + " is undefined");
    shapes.push_back(inputs[i].shape());
  }
  std::vector<Shape> outs;
  if (!takes_input_list()) {
    if (inputs.size() != 1) fail(label(), "takes one input, was called on " + std::to_string(inputs.size()) + " symbolic tensors");
    if (!built_) build(shapes[0]);  // creates the weights; a bad shape is the layer's own error
    outs = {output_shape(shapes[0])};
  } else {
    outs = output_shapes_list(shapes);
    if (!built_) build_list(shapes, outs);
  }
  const int call_index = graph_calls_++;
  const auto node = std::make_shared<const GraphNode>(GraphNode{std::move(self), inputs, outs, call_index});
  std::vector<SymbolicTensor> result;
  for (size_t i = 0; i < outs.size(); ++i) result.emplace_back(node, static_cast<int>(i));
  return result;
}

// ---- Input ----

InputLayer::InputLayer(const Shape& shape, LayerOptions options) : Layer("InputLayer", std::move(options.name)), shape_(shape) {
  for (int64_t d : shape)
    if (d < 1) fail(label(), "shape " + with_batch_str(shape) + " must have positive dims");
  build(shape);
}

Shape InputLayer::output_shape(const Shape& input_shape) const {
  if (input_shape != shape_)
    fail(label(), "expects inputs of shape " + with_batch_str(shape_) + ", got " + with_batch_str(input_shape));
  return shape_;
}

Variable InputLayer::forward(const Variable& x, bool) { return x; }

SymbolicTensor Input(const Shape& shape, InputOptions options) {
  auto layer = std::make_shared<InputLayer>(shape, LayerOptions{options.name});
  return SymbolicTensor(std::make_shared<const GraphNode>(GraphNode{layer, {}, {shape}}));
}

// ---- Model ----

namespace {
bool is_input(const GraphNode& n) { return dynamic_cast<const InputLayer*>(n.layer.get()) != nullptr; }
}  // namespace

Model::Model(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs, std::string name)
    : Layer("Functional", std::move(name)), inputs_(std::move(inputs)), outputs_(std::move(outputs)) {
  if (inputs_.empty()) fail(label(), "needs at least one input");
  if (outputs_.empty()) fail(label(), "needs at least one output");
  std::unordered_set<const GraphNode*> listed;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (!inputs_[i].defined()) fail(label(), "input " + std::to_string(i) + " is undefined");
    if (!is_input(inputs_[i].node()))
      fail(label(), "input " + std::to_string(i) + " is " + inputs_[i].str() + "; a model's inputs must be tg::Input tensors");
    if (!listed.insert(&inputs_[i].node()).second)
      fail(label(), "input " + std::to_string(i) + " (" + inputs_[i].str() + ") is listed twice");
  }
  // Depth first from the outputs: a node goes into order_ after all of its inputs. (A graph has no
  // cycles: a node's inputs exist before it.)
  std::unordered_set<const GraphNode*> done;
  auto visit = [&](auto& self, const GraphNode* n) -> void {
    if (done.count(n)) return;
    for (const SymbolicTensor& in : n->inputs) self(self, &in.node());
    if (is_input(*n) && !listed.count(n))
      fail(label(), "an output depends on the Input '" + n->layer->name() + "' " + with_batch_str(n->shapes.at(0)) +
                        ", which is not among the model's inputs");
    done.insert(n);
    order_.push_back(n);
  };
  for (size_t i = 0; i < outputs_.size(); ++i) {
    if (!outputs_[i].defined()) fail(label(), "output " + std::to_string(i) + " is undefined");
    visit(visit, &outputs_[i].node());
  }
  // Inputs first, in the order given (an unused one too), then the layers in graph order; each
  // layer registered once, so a shared layer is one sub-layer with its weights once.
  std::vector<const GraphNode*> nodes;
  for (const auto& in : inputs_) nodes.push_back(&in.node());
  for (const GraphNode* n : order_)
    if (!is_input(*n)) nodes.push_back(n);
  order_ = nodes;
  std::unordered_set<const Layer*> registered;
  for (const GraphNode* n : order_)
    if (registered.insert(n->layer.get()).second) register_layer(n->layer);
  count_graph_calls_from(1);
  if (inputs_.size() == 1 && outputs_.size() == 1)
    build(inputs_[0].shape());  // a model of one input and output is also a layer of one input
  else
    mark_built(outputs_[0].shape());
}

Shape Model::output_shape(const Shape& input_shape) const {
  const std::vector<Shape> out = output_shapes_list({input_shape});
  if (out.size() != 1) fail(label(), "has " + std::to_string(out.size()) + " outputs; call it with a list to get them all");
  return out[0];
}

std::vector<Shape> Model::output_shapes_list(const std::vector<Shape>& shapes) const {
  if (shapes.size() != inputs_.size())
    fail(label(), "takes " + std::to_string(inputs_.size()) + " inputs, got " + std::to_string(shapes.size()));
  for (size_t i = 0; i < shapes.size(); ++i)
    if (shapes[i] != inputs_[i].shape())
      fail(label(), "input " + std::to_string(i) + " ('" + inputs_[i].node().layer->name() + "') must be " +
                        with_batch_str(inputs_[i].shape()) + ", got " + with_batch_str(shapes[i]));
  std::vector<Shape> out;
  for (const auto& o : outputs_) out.push_back(o.shape());
  return out;
}

std::vector<Variable> Model::operator()(const std::vector<Variable>& inputs, bool training) {
  return call_list(inputs, training);
}

Variable Model::forward(const Variable& x, bool training) {
  std::vector<Variable> ys = forward_list({x}, training);
  if (ys.size() != 1) fail(label(), "has " + std::to_string(ys.size()) + " outputs; call it with a list to get them all");
  return ys[0];
}

std::vector<Variable> Model::forward_list(const std::vector<Variable>& inputs, bool training) {
  if (inputs.size() != inputs_.size())
    fail(label(), "takes " + std::to_string(inputs_.size()) + " inputs, got " + std::to_string(inputs.size()));
  std::unordered_map<const GraphNode*, std::vector<Variable>> value;  // each node's outputs
  for (size_t i = 0; i < inputs.size(); ++i) value[&inputs_[i].node()] = {(*inputs_[i].node().layer)(inputs[i], training)};
  auto value_of = [&value](const SymbolicTensor& t) { return value.at(&t.node()).at(static_cast<size_t>(t.index())); };
  for (const GraphNode* n : order_) {
    if (is_input(*n)) continue;
    std::vector<Variable> args;
    for (const SymbolicTensor& in : n->inputs) args.push_back(value_of(in));
    value[n] = n->layer->call_all(args, training);  // a layer of one input takes a list of one
  }
  std::vector<Variable> out;
  for (const auto& o : outputs_) out.push_back(value_of(o));
  return out;
}

}  // namespace tapegrad
