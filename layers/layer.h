#pragma once
// Layer: the base of every Keras-style layer. A layer declares only its forward pass (composing
// differentiable ops); gradients come from the tape. Shapes given to and returned by a layer
// exclude the batch dim, as Keras' input_shape argument does: a Dense layer on (None, 16) sees
// (16,). Parameters are created lazily by build() from the first input shape.
#include <memory>
#include <string>
#include <vector>

#include "autograd/variable.h"
#include "core/rng.h"
#include "core/shape.h"
#include "layers/initializer.h"
#include "layers/parameter.h"

namespace tapegrad {

class Layer {
 public:
  // `type` is the class name ("Dense"); an empty `name` gets Keras' automatic one ("dense_2").
  Layer(std::string type, std::string name);
  virtual ~Layer() = default;
  Layer(Layer&&) = default;
  Layer& operator=(Layer&&) = default;
  Layer(const Layer&) = delete;  // layers own their weights; share them through pointers
  Layer& operator=(const Layer&) = delete;

  const std::string& name() const { return name_; }
  const std::string& type() const { return type_; }

  // Creates the weights for inputs of `input_shape` (without the batch dim). Idempotent for the
  // same shape; a different shape after building is an error. Sub-layers that build_impl() does
  // not build are built by one forward pass on a zero batch (Keras' way for model classes).
  void build(const Shape& input_shape);
  bool built() const { return built_; }
  const Shape& input_shape() const { return input_shape_; }

  // Builds on first use from x's shape, then runs forward. x is (batch, ...input_shape). Later
  // calls accept any shape that output_shape() and the weights accept (as Keras' input_spec).
  Variable operator()(const Variable& x, bool training = false);

  // The output shape for an input shape (both without batch), without building. Throws a clear
  // error when the input shape is invalid for this layer.
  virtual Shape output_shape(const Shape& input_shape) const = 0;

  // Weights of this layer and of its sub-layers, in creation order.
  std::vector<ParameterPtr> parameters() const;
  std::vector<ParameterPtr> trainable_parameters() const;
  int64_t count_params() const;

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

  // The random generators of this layer and its sub-layers (dropout masks, noise), named
  // "<layer>/rng", "<layer>/rng_1", ..., so checkpoints can save and restore them.
  std::vector<std::pair<std::string, Rng*>> random_generators();

  // Sub-layers, for models that compose layers (Sequential, residual blocks).
  const std::vector<std::shared_ptr<Layer>>& sublayers() const { return sublayers_; }

 protected:
  // Creates weights; runs once, with an input shape output_shape() accepted.
  virtual void build_impl(const Shape& input_shape) {}
  virtual Variable forward(const Variable& x, bool training) = 0;
  // The generators this layer itself draws from; random layers override it.
  virtual std::vector<Rng*> own_generators() { return {}; }

  // Creates a weight named "<layer>/<name>" from `init`, drawing from default_rng().
  ParameterPtr add_weight(const std::string& name, const Shape& shape, const Initializer& init,
                          std::shared_ptr<const Regularizer> regularizer = nullptr,
                          std::shared_ptr<const Constraint> constraint = nullptr, bool trainable = true);
  void add_sublayer(std::shared_ptr<Layer> layer);
  // Adds a scalar penalty to this call's losses().
  void add_loss(const Variable& penalty);

  // "Dense 'dense_2'", the prefix of this layer's error messages.
  std::string label() const { return type_ + " '" + name_ + "'"; }

 private:
  std::string type_, name_;
  bool built_ = false;
  bool trainable_ = true;
  Shape input_shape_;
  std::vector<ParameterPtr> weights_;
  std::vector<std::shared_ptr<Layer>> sublayers_;
  std::shared_ptr<const Regularizer> activity_regularizer_;
  std::vector<Variable> losses_;

  void clear_losses();
};

// Keras' automatic name for a new layer of `type`: "dense", then "dense_1", "dense_2", ... (a
// per-process counter, like Keras'; checkpoints match weights by these names, so build a model in
// the same order to restore it, or name its layers).
std::string unique_layer_name(const std::string& type);

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
