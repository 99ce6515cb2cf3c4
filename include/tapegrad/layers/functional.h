#pragma once
// The functional API, as Keras': symbolic inputs (Input), layers called on symbolic tensors
// (each call records a node: the layer and the tensors it was called on, its output shape found
// right then), and Model(inputs, outputs), which runs the graph in topological order and is
// itself a Layer (nest it, train it, checkpoint it).
//
//   auto in = tg::Input({32, 32, 3}, {.name = "image"});
//   auto x = tg::Conv2D(16, 3, {.padding = "same"})(in);
//   auto y = tg::Add()({x, tg::Conv2D(16, 1)(in)});
//   auto out = tg::Dense(10)(tg::GlobalAveragePooling2D()(y));
//   tg::Model model({in}, {out}, "tiny_resnet");
//
// A layer called twice (held by a std::shared_ptr) is one layer with two nodes: shared weights.
#include <memory>
#include <string>
#include <vector>

#include "tapegrad/layers/layer.h"

namespace tapegrad {

struct GraphNode;

// A tensor of a graph being built: no values, a shape without the batch dim, and the node that
// makes it. Cheap to copy (a shared pointer).
class SymbolicTensor {
 public:
  SymbolicTensor() = default;
  // Output `index` of a node (a recurrent layer with return_state has several).
  explicit SymbolicTensor(std::shared_ptr<const GraphNode> node, int index = 0) : node_(std::move(node)), index_(index) {}
  bool defined() const { return node_ != nullptr; }
  const Shape& shape() const;  // without the batch dim
  const GraphNode& node() const;
  int index() const { return index_; }  // which output of its node (Keras' tensor_index)
  // "(None, 32, 32, 3) from conv2d", for error messages.
  std::string str() const;

 private:
  std::shared_ptr<const GraphNode> node_;
  int index_ = 0;
};

// One call of a layer: the layer, the symbolic tensors it was called on (none for an Input),
// the shapes of its outputs (without batch; one, or a recurrent layer's output and states), and
// which call of the layer it is (Keras' node index:
// "conv2d[1][0]" in a summary is conv2d's second call).
struct GraphNode {
  std::shared_ptr<Layer> layer;
  std::vector<SymbolicTensor> inputs;
  std::vector<Shape> shapes;
  int call_index = 0;
};

// What to_dot() draws, as Keras' plot_model.
struct ToDotOptions {
  bool show_shapes = false;       // each layer's input and output shapes
  bool show_layer_names = true;
  std::string rankdir = "TB";     // "TB" top to bottom, "LR" left to right
};

struct InputOptions {
  std::string name = "";  // empty: "input_1", "input_2", ... in the model, as Keras 2 names them
};

// Keras' keras.Input: a symbolic batch of `shape` (without the batch dim).
SymbolicTensor Input(const Shape& shape, InputOptions options = {});

// The layer behind an Input: passes its batch through, after checking its shape.
class InputLayer : public Layer {
 public:
  InputLayer(const Shape& shape, LayerOptions options = {});
  TAPEGRAD_LAYER(InputLayer)
  MaskSupport mask_support() const override { return MaskSupport::passes; }
  const Shape& shape() const { return shape_; }
  Shape output_shape(const Shape& input_shape) const override;

 protected:
  Variable forward(const Variable& x, bool training) override;

 private:
  Shape shape_;
};

class Model : public Layer {
 public:
  // Every output must be computed from the inputs alone (an Input that is not listed is an
  // error naming it); inputs must be Inputs, each once.
  Model(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs, std::string name = "");
  TAPEGRAD_LAYER(Model)
  // masks flow along the graph; each output has its layer's
  MaskSupport mask_support() const override { return MaskSupport::computes; }

  using Layer::operator();
  // One value per model output, for one batch per model input, in the order they were given.
  std::vector<Variable> operator()(const std::vector<Variable>& inputs, bool training = false);

  const std::vector<SymbolicTensor>& inputs() const { return inputs_; }
  const std::vector<SymbolicTensor>& outputs() const { return outputs_; }
  // A model of one input and one output: its output shape (the input must be the Input's).
  Shape output_shape(const Shape& input_shape) const override;
  // Keras 2.15's table: its layers in Keras' order (by depth from the inputs), and, unless the
  // graph is a plain chain, the "Connected to" column.
  void summary(std::ostream& os) const override;
  using Layer::summary;
  // The graph in Graphviz's DOT language, as Keras' plot_model draws it (a record per layer,
  // "name|Class", an edge per connection): `dot -Tpng model.dot -o model.png`.
  std::string to_dot(const ToDotOptions& options = {}) const;
  // The architecture as Keras 2.15's JSON (tapegrad/layers/model_json.h: tg::to_json).
  std::string to_json(int indent = -1) const;

 protected:
  Variable forward(const Variable& x, bool training) override;
  bool takes_input_list() const override { return true; }
  std::vector<Variable> forward_list(const std::vector<Variable>& inputs, bool training) override;
  std::vector<Shape> output_shapes_list(const std::vector<Shape>& input_shapes) const override;

 private:
  std::vector<SymbolicTensor> inputs_, outputs_;
  std::vector<const GraphNode*> order_;  // every node the outputs need, each after its inputs
};

}  // namespace tapegrad
