#pragma once
// Layer: the base of every Keras-style layer. A layer declares only its forward pass (composing
// differentiable ops); gradients come from the tape. Shapes given to and returned by a layer
// exclude the batch dim, as Keras' input_shape argument does: a Dense layer on (None, 16) sees
// (16,). Parameters are created lazily by build() from the first input shape.
//
// Names are paths. A layer registered in a model gets a name there: the one its author gave
// (register_layer("conv1", ...) or the layer's `.name` option), else an automatic one counted among
// its siblings ("dense", "dense_1", ...), never per process. A parameter's name is its path from
// the model it was listed from, that model's own name left out: "block1/conv1/kernel". So two
// instances of one model class have the same names and load each other's checkpoints; the same
// names appear in checkpoints, optimizer state, summary() and error messages.
//
// Sharing: a layer (or parameter) reachable twice is one layer; it appears once in parameters(),
// count_params(), summary() and the optimizer, and its gradient is the sum over its uses.
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <typeinfo>
#include <vector>

#include "tapegrad/autograd/variable.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/layers/initializer.h"
#include "tapegrad/layers/mixed_precision.h"
#include "tapegrad/layers/parameter.h"

namespace tapegrad {

class SymbolicTensor;  // layers/functional.h

// What a layer does with the mask of its input (Variable::mask; Keras' supports_masking and
// compute_mask). Keras 2.15 drops a mask silently at a layer that does not support masking, so
// a recurrent layer further on reads the padding as data; tapegrad refuses instead.
enum class MaskSupport {
  refuses,   // a masked input is an error naming the layer (the default)
  passes,    // the output carries the input's mask (Dense, Dropout, activations, ...)
  computes,  // forward() reads the mask and sets the output's own, or none (recurrent layers, models)
};

// The options of layers whose other arguments are positional (Permute(dims, {.name = "p"}),
// Sequential(layers, {.name = "mlp"})); every other layer has `.name` in its own XOptions.
struct LayerOptions {
  std::string name = "";  // empty: an automatic name
};

class Layer : public std::enable_shared_from_this<Layer> {
 public:
  // `type` is the class name ("Dense"); an empty `name` gets an automatic one: the type in snake
  // case ("dense"), numbered among its siblings when it joins a model ("dense_1").
  Layer(std::string type, std::string name);
  virtual ~Layer();
  Layer(Layer&& other) noexcept;
  Layer& operator=(Layer&&) = delete;
  Layer(const Layer&) = delete;  // layers own their weights; share them through pointers
  Layer& operator=(const Layer&) = delete;

  // The name in the model that registered this layer first (or the given/automatic one).
  const std::string& name() const { return name_; }
  const std::string& type() const { return type_; }
  // The path from the outermost model that holds this layer, that model left out
  // ("block1/conv1"); a layer in no model: its name.
  std::string path() const;

  // Creates the weights for inputs of `input_shape` (without the batch dim). Idempotent for the
  // same shape; a different shape after building is an error. Sub-layers that build_impl() does
  // not build are built by one forward pass on a zero batch (Keras' way for model classes).
  void build(const Shape& input_shape);
  bool built() const { return built_; }
  const Shape& input_shape() const { return input_shape_; }

  // Builds on first use from x's shape, then runs forward. x is (batch, ...input_shape). Later
  // calls accept any shape that output_shape() and the weights accept (as Keras' input_spec).
  Variable operator()(const Variable& x, bool training = false);
  // A list of inputs: merge layers and graph models take several, a recurrent layer its input
  // and initial states; other layers a list of one.
  Variable operator()(const std::vector<Variable>& inputs, bool training = false);
  // Every output of a call: a graph model's, or a recurrent layer's with return_state (output,
  // then its states), as Keras' `output, h, c = lstm(x)`.
  std::vector<Variable> call_all(const std::vector<Variable>& inputs, bool training = false) { return call_list(inputs, training); }

  // The functional API (layers/functional.h): called on symbolic tensors, a layer records a node
  // of a graph. Its weights are built and its output shape inferred now, so a bad shape is an
  // error here, naming the layer and the shapes. A temporary layer moves into the graph (its class
  // declares TAPEGRAD_LAYER(Class)); a layer held by a std::shared_ptr stays shared: each call is
  // a node of its own, the weights are one (a siamese tower).
  SymbolicTensor operator()(const SymbolicTensor& x) &;
  SymbolicTensor operator()(const SymbolicTensor& x) &&;
  SymbolicTensor operator()(const std::vector<SymbolicTensor>& inputs) &;
  SymbolicTensor operator()(const std::vector<SymbolicTensor>& inputs) &&;
  std::vector<SymbolicTensor> call_all(const std::vector<SymbolicTensor>& inputs) &;
  std::vector<SymbolicTensor> call_all(const std::vector<SymbolicTensor>& inputs) &&;

  // What this layer does with a masked input.
  virtual MaskSupport mask_support() const { return MaskSupport::refuses; }

  // The output shape for an input shape (both without batch). Throws a clear error when the input
  // shape is invalid for this layer. Layers with weights or fixed rules override it (and then it
  // needs no build); the default, for model classes that compose layers in forward(), is what
  // the dry run of build() produced, or another dry run for another shape of a built layer.
  virtual Shape output_shape(const Shape& input_shape) const;

  // Weights of this layer and of its sub-layers, each once (a shared layer or weight is listed
  // where it is first reached), in creation order. Each parameter's `name` is set to its path
  // from this layer: "block1/conv1/kernel".
  std::vector<ParameterPtr> parameters() const;
  std::vector<ParameterPtr> trainable_parameters() const;
  int64_t count_params() const;

  // Keras' get_weights(): copies of the weights in parameters() order (each layer's weights in
  // the order it created them, layers in order), and set_weights(), which checks the count and
  // every shape first and changes nothing on a mismatch, naming the weight.
  std::vector<Tensor> get_weights() const;
  void set_weights(const std::vector<Tensor>& weights);
  // The same by name ("block1/conv1/kernel" -> tensor). set_weights() by name needs every weight
  // of the layer and no other name unless strict is false; it returns the names it skipped.
  std::map<std::string, Tensor> get_named_weights() const;
  [[nodiscard]] std::vector<std::string> set_weights(const std::map<std::string, Tensor>& weights, bool strict = true);

  // Keras' table: each direct sub-layer once (name and type, output shape, parameter count), then
  // the totals (shared weights counted once). Needs a built layer.
  // A graph Model prints Keras' graph table instead ("Connected to"), unless it is a plain chain.
  virtual void summary(std::ostream& os) const;
  void summary() const;
  std::string summary_string() const;

  // Keras' dtype policy: the global policy when the layer was constructed, unless set. Its
  // compute dtype is the one this layer's matrix products run in (for the length of its call;
  // sub-layers run in their own). "float32" / "bfloat16".
  const mixed_precision::Policy& dtype_policy() const { return policy_; }
  void set_dtype_policy(const std::string& name) { policy_ = mixed_precision::Policy(name); }
  std::string compute_dtype() const { return dtype_name(policy_.compute_dtype()); }
  std::string variable_dtype() const { return dtype_name(policy_.variable_dtype()); }

  bool trainable() const { return trainable_; }
  // Freezing a layer freezes its sub-layers' weights too. Weights created with trainable = false
  // (BatchNormalization's moving statistics) stay non-trainable when a layer is unfrozen.
  void set_trainable(bool on);

  // Penalties of the latest call (activity regularizers, add_loss), this layer's and its
  // sub-layers', summed into one scalar (0 when there are none): `loss + model.losses()`, as
  // Keras' model.losses. They are cleared at the start of each outermost call.
  Variable losses() const;
  std::vector<Variable> loss_terms() const;

  // Keras' activity_regularizer: a penalty on this layer's output, divided by the batch size.
  void set_activity_regularizer(std::shared_ptr<const Regularizer> regularizer) {
    activity_regularizer_ = std::move(regularizer);
  }
  bool has_activity_regularizer() const { return activity_regularizer_ != nullptr; }

  // The random generators of this layer and its sub-layers (dropout masks, noise), named by path
  // as parameters are ("dropout/rng", "dropout/rng_1", ...), so checkpoints can restore them.
  std::vector<std::pair<std::string, Rng*>> random_generators();

  // Keras' reset_states(): stateful recurrent layers here and below forget the states they
  // carried over from their last call (zeros next time).
  void reset_states();
  // The states stateful layers carry from one call to the next, named by path as parameters
  // are ("lstm/state_0"), for checkpoints: each (batch, width), undefined before the first call.
  struct CarriedState {
    Tensor* value;
    int64_t width;
  };
  std::vector<std::pair<std::string, CarriedState>> carried_states();

  // Sub-layers in the order they were added, for models that compose layers (Sequential, residual
  // blocks); a layer added twice (shared) is there twice.
  const std::vector<std::shared_ptr<Layer>>& sublayers() const { return sublayers_; }
  // The name of sublayers()[i] in this layer.
  const std::string& sublayer_name(size_t i) const { return sublayer_names_.at(i); }
  // The direct sub-layer registered as `name`; an error listing the names if there is none.
  std::shared_ptr<Layer> get_layer(const std::string& name) const;

 protected:
  // Creates weights; runs once, with an input shape output_shape() accepted.
  virtual void build_impl(const Shape& input_shape) {}
  virtual Variable forward(const Variable& x, bool training) = 0;
  // Whether the layer takes a list of inputs (merge layers, graph models).
  virtual bool takes_input_list() const { return false; }
  // A call with a list of inputs, and its output shapes: by default exactly one input, given to
  // forward() and output_shape(). Layers of several inputs (merge layers, graph models) override
  // both; a graph model returns one output per model output.
  virtual std::vector<Variable> forward_list(const std::vector<Variable>& inputs, bool training);
  virtual std::vector<Shape> output_shapes_list(const std::vector<Shape>& input_shapes) const;
  // Layers built by a list call (they have no input_shape of one input) record the output shape
  // it found, so that summary() shows it.
  void mark_built(const Shape& output_shape);
  // How a layer that takes a list builds on its first call: by default it records its first
  // output's shape (merge layers, graph models: no weights of their own); a recurrent layer
  // builds its weights for its first input (the others are initial states).
  virtual void build_list(const std::vector<Shape>& input_shapes, const std::vector<Shape>& output_shapes) {
    mark_built(output_shapes.at(0));
  }
  // The list call: shapes checked, losses and dtype scoped as for one input; every output.
  std::vector<Variable> call_list(const std::vector<Variable>& inputs, bool training);
  // This layer moved into a new heap object of its own class: TAPEGRAD_LAYER(Class) defines it.
  // The default refuses, saying how to call the layer instead.
  virtual std::shared_ptr<Layer> moved_to_shared() &&;
  // The generators this layer itself draws from; random layers override it.
  virtual std::vector<Rng*> own_generators() { return {}; }
  // The states this layer itself carries between calls, and forgetting them (stateful layers).
  virtual std::vector<CarriedState> own_states() { return {}; }
  virtual void reset_own_states() {}

  // Creates a weight called `name` in this layer from `init`, drawing from default_rng().
  ParameterPtr add_weight(const std::string& name, const Shape& shape, const Initializer& init,
                          std::shared_ptr<const Regularizer> regularizer = nullptr,
                          std::shared_ptr<const Constraint> constraint = nullptr, bool trainable = true);
  // Uses another layer's weight here too (tied weights): one parameter, gradients summed.
  void share_weight(ParameterPtr weight);
  // Registers a sub-layer under `name` (which wins over the layer's own name) and returns it,
  // typed: `conv1_ = register_layer("conv1", std::make_shared<Conv2D>(16, 3));`. Two different
  // sub-layers with one name are an error naming both; the same layer again is shared.
  template <class L>
  std::shared_ptr<L> register_layer(const std::string& name, std::shared_ptr<L> layer) {
    add_named_sublayer(name, layer);
    return layer;
  }
  // Registers a sub-layer under its own name, or an automatic one ("dense", "dense_1", ...).
  template <class L>
  std::shared_ptr<L> register_layer(std::shared_ptr<L> layer) {
    add_named_sublayer("", layer);
    return layer;
  }
  // Adds a scalar penalty to this call's losses().
  void add_loss(const Variable& penalty);

  // summary()'s line naming the dtype policies, when any is not float32.
  void print_dtype_policies(std::ostream& os) const;
  // Models count the nodes of their graph from 1: node 0 is the model's own (Keras' numbering).
  void count_graph_calls_from(int first) { graph_calls_ = first; }

  // "Dense 'block1/dense'", the prefix of this layer's error messages.
  std::string label() const { return type_ + " '" + path() + "'"; }

 private:
  std::string type_, name_;
  bool name_given_;              // by the author: automatic names give way to it
  mixed_precision::Policy policy_;
  const Layer* parent_ = nullptr;  // the model that registered this layer first (it owns us)
  bool built_ = false;
  bool trainable_ = true;
  bool static_shapes_ = true;    // output_shape() is overridden: shapes are known without a run
  Shape input_shape_;
  Shape output_shape_;           // for input_shape_, as found by build() or the first call
  bool has_output_shape_ = false;
  int graph_calls_ = 0;          // symbolic calls so far: the next node's index (Keras' node_index)
  std::vector<ParameterPtr> weights_;
  std::vector<std::shared_ptr<Layer>> sublayers_;
  std::vector<std::string> sublayer_names_;
  std::shared_ptr<const Regularizer> activity_regularizer_;
  std::vector<Variable> losses_;

  void add_named_sublayer(const std::string& name, std::shared_ptr<Layer> layer);
  std::vector<SymbolicTensor> call_symbolic(std::shared_ptr<Layer> self, const std::vector<SymbolicTensor>& inputs);
  std::shared_ptr<Layer> graph_owner() &;
  void regularize_activity(const Variable& y);
  void refuse_mask_unless_supported(const Variable& x) const;
  void clear_losses();
  // Every layer under this one (itself first), each once, with its path prefix ("" or "a/b/").
  std::vector<std::pair<std::string, Layer*>> unique_layers() const;
  Shape dry_run_output_shape(const Shape& input_shape) const;
};

// In the public part of a layer class: lets a temporary of the class be called on symbolic
// tensors (Layer::moved_to_shared()). A subclass that does not declare it again is refused
// rather than sliced into its base.
#define TAPEGRAD_LAYER(Class)                                                                  \
  std::shared_ptr<::tapegrad::Layer> moved_to_shared() && override {                           \
    if (typeid(*this) != typeid(Class)) return std::move(*this).::tapegrad::Layer::moved_to_shared(); \
    return std::make_shared<Class>(std::move(*this));                                          \
  }

// Keras' automatic name for a layer of `type`: its snake case ("BatchNormalization" ->
// "batch_normalization", "Conv2DTranspose" -> "conv2d_transpose").
std::string automatic_layer_name(const std::string& type);

// A shared layer, made from a layer value (moved in) or a shared_ptr, so that lists of layers
// read `{Dense(64, {.activation = "relu"}), Dense(10)}`.
class LayerRef {
 public:
  template <class L, class = std::enable_if_t<std::is_base_of_v<Layer, std::decay_t<L>> && !std::is_lvalue_reference_v<L>>>
  LayerRef(L&& layer) : ptr_(std::make_shared<std::decay_t<L>>(std::move(layer))) {}  // NOLINT
  template <class L, class = std::enable_if_t<std::is_base_of_v<Layer, L>>>
  LayerRef(std::shared_ptr<L> layer) : ptr_(std::move(layer)) {}  // NOLINT
  const std::shared_ptr<Layer>& get() const { return ptr_; }

 private:
  std::shared_ptr<Layer> ptr_;
};

}  // namespace tapegrad
