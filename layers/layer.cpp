#include "tapegrad/layers/layer.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <unordered_set>

#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/rng.h"

namespace tapegrad {

// Keras' to_snake_case: "BatchNormalization" -> "batch_normalization",
// "Conv2DTranspose" -> "conv2d_transpose".
std::string automatic_layer_name(const std::string& type) {
  static const std::regex word_start("(.)([A-Z][a-z0-9]+)");
  static const std::regex lower_upper("([a-z])([A-Z])");
  std::string s = std::regex_replace(std::regex_replace(type, word_start, "$1_$2"), lower_upper, "$1_$2");
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Layer::Layer(std::string type, std::string name)
    : type_(std::move(type)), name_given_(!name.empty()), policy_(mixed_precision::global_policy()) {
  name_ = name_given_ ? std::move(name) : automatic_layer_name(type_);
}

// Sub-layers point back at the model that registered them; a moved model takes them along. The
// new layer itself is in no model yet (a model holds the old object, if any).
Layer::Layer(Layer&& o) noexcept
    : type_(o.type_),
      name_(o.name_),
      name_given_(o.name_given_),
      policy_(o.policy_),
      parent_(nullptr),
      built_(o.built_),
      trainable_(o.trainable_),
      static_shapes_(o.static_shapes_),
      input_shape_(std::move(o.input_shape_)),
      output_shape_(std::move(o.output_shape_)),
      has_output_shape_(o.has_output_shape_),
      graph_calls_(o.graph_calls_),
      weights_(std::move(o.weights_)),
      sublayers_(std::move(o.sublayers_)),
      sublayer_names_(std::move(o.sublayer_names_)),
      activity_regularizer_(std::move(o.activity_regularizer_)),
      losses_(std::move(o.losses_)) {
  for (auto& sub : sublayers_)
    if (sub->parent_ == &o) sub->parent_ = this;
}

Layer::~Layer() {
  for (auto& sub : sublayers_)
    if (sub && sub->parent_ == this) sub->parent_ = nullptr;
}

std::string Layer::path() const {
  // The outermost model is left out, as in parameter names.
  if (!parent_ || !parent_->parent_) return name_;
  return parent_->path() + "/" + name_;
}

void Layer::add_named_sublayer(const std::string& given, std::shared_ptr<Layer> layer) {
  if (!layer) fail(label(), "cannot add a null sub-layer");
  if (layer.get() == this) fail(label(), "cannot contain itself");
  for (const auto& [prefix, inner] : layer->unique_layers())
    if (inner == this)
      fail(label(), "cannot contain the " + layer->type() + " '" + layer->name() + "', which already contains it" +
                        " (at '" + prefix + "'): a model is a tree of layers, not a cycle");
  for (size_t i = 0; i < sublayers_.size(); ++i)
    if (sublayers_[i] == layer) {  // the same layer again: shared, one name
      if (!given.empty() && given != sublayer_names_[i])
        fail(label(), "the sub-layer '" + sublayer_names_[i] + "' is registered again as '" + given +
                          "'; a shared layer has one name");
      sublayers_.push_back(layer);
      sublayer_names_.push_back(sublayer_names_[i]);
      return;
    }
  auto taken = [&](const std::string& n) {
    return std::find(sublayer_names_.begin(), sublayer_names_.end(), n) != sublayer_names_.end();
  };
  std::string name = !given.empty() ? given : layer->name_given_ ? layer->name_ : std::string();
  if (name.empty()) {
    // Automatic: the type's name, numbered among this layer's children ("dense", "dense_1", ...).
    // Inputs as Keras 2 names them: "input_1", "input_2", ...
    const bool input = layer->type() == "InputLayer";
    const std::string base = input ? "input" : automatic_layer_name(layer->type());
    name = input ? base + "_1" : base;
    for (int n = input ? 2 : 1; taken(name); ++n) name = base + "_" + std::to_string(n);
  } else if (name.find('/') != std::string::npos) {
    fail(label(), "sub-layer name '" + name + "' contains '/', which separates the parts of a path");
  } else if (taken(name)) {
    const size_t other = static_cast<size_t>(std::find(sublayer_names_.begin(), sublayer_names_.end(), name) -
                                             sublayer_names_.begin());
    fail(label(), "two different sub-layers are named '" + name + "': a " + sublayers_[other]->type() +
                      " (sub-layer " + std::to_string(other) + ") and a " + layer->type() + " (sub-layer " +
                      std::to_string(sublayers_.size()) + "); give them distinct names");
  }
  if (!layer->parent_) {  // its first model names it; a layer shared into another keeps that name
    layer->parent_ = this;
    layer->name_ = name;
  }
  sublayers_.push_back(std::move(layer));
  sublayer_names_.push_back(name);
}

std::shared_ptr<Layer> Layer::get_layer(const std::string& name) const {
  std::string known;  // each name once, in order (a shared layer is listed at every use)
  for (size_t i = 0; i < sublayers_.size(); ++i) {
    if (sublayer_names_[i] == name) return sublayers_[i];
    if (std::find(sublayer_names_.begin(), sublayer_names_.begin() + static_cast<std::ptrdiff_t>(i), sublayer_names_[i]) ==
        sublayer_names_.begin() + static_cast<std::ptrdiff_t>(i))
      known += (known.empty() ? "" : ", ") + sublayer_names_[i];
  }
  fail(label(), "has no sub-layer named '" + name + "'; it has: " + (known.empty() ? "none" : known));
}

std::vector<std::pair<std::string, Layer*>> Layer::unique_layers() const {
  std::vector<std::pair<std::string, Layer*>> out;
  std::unordered_set<const Layer*> seen;
  // Depth first, children in order: the first path that reaches a shared layer is its path.
  auto visit = [&](auto& self, const Layer* l, const std::string& prefix) -> void {
    if (!seen.insert(l).second) return;
    out.emplace_back(prefix, const_cast<Layer*>(l));
    for (size_t i = 0; i < l->sublayers_.size(); ++i) self(self, l->sublayers_[i].get(), prefix + l->sublayer_names_[i] + "/");
  };
  visit(visit, this, "");
  return out;
}

namespace {
// Thrown by the default output_shape() of a layer that is not built yet: build() then learns the
// shape from its dry run instead.
struct ShapeNeedsDryRun : Error {
  using Error::Error;
};
}  // namespace

Shape Layer::output_shape(const Shape& input_shape) const {
  if (built_ && has_output_shape_ && input_shape == input_shape_) return output_shape_;
  if (built_) return dry_run_output_shape(input_shape);
  throw ShapeNeedsDryRun(label() + ": its output shape is known once it is built (it does not override "
                                   "output_shape()); call build(input_shape) first");
}

Shape Layer::dry_run_output_shape(const Shape& input_shape) const {
  NoGradGuard no_grad;
  Shape batch{1};
  for (int64_t d : input_shape) batch.push_back(d);
  // forward() is not const, but a dry run in inference mode changes no weights; the states that
  // stateful layers carry are put back, so that the next real call starts where the last one ended.
  Layer& self = const_cast<Layer&>(*this);
  std::vector<Tensor> carried;
  for (auto& [name, slot] : self.carried_states()) carried.push_back(*slot.value);
  const Variable y = self.forward(Variable(Tensor::zeros(batch)), /*training=*/false);
  self.clear_losses();
  const auto slots = self.carried_states();  // anew: a call may have replaced the states' storage
  for (size_t i = 0; i < slots.size() && i < carried.size(); ++i) *slots[i].second.value = carried[i];
  return y.shape().drop(0, 1);
}

void Layer::build(const Shape& input_shape) {
  if (built_) {
    if (input_shape != input_shape_)
      fail(label(), "was built for inputs " + input_shape_.str() + " (without batch), got " + input_shape.str());
    return;
  }
  Shape out;
  try {
    out = output_shape(input_shape);  // validates; throws a clear error for a bad shape
  } catch (const ShapeNeedsDryRun&) {
    static_shapes_ = false;  // a model class: the dry run below finds the shape
  }
  build_impl(input_shape);
  input_shape_ = input_shape;
  built_ = true;
  // Sub-layers that build_impl() left unbuilt (a model class whose forward() composes them) are
  // built by running forward() once on a zero batch of one, as Keras builds subclassed models.
  const bool pending = std::any_of(sublayers_.begin(), sublayers_.end(), [](const auto& l) { return !l->built(); });
  if (pending || !static_shapes_) out = dry_run_output_shape(input_shape);
  output_shape_ = out;
  has_output_shape_ = true;
}

namespace {
// How deep in nested layer calls this thread is; the outermost call clears the losses.
thread_local int call_depth = 0;
struct CallDepth {
  CallDepth() { ++call_depth; }
  ~CallDepth() { --call_depth; }
};
}  // namespace

Variable Layer::operator()(const Variable& x, bool training) {
  if (!x.defined()) fail(label(), "input is undefined");
  if (x.rank() < 1) fail(label(), "input " + x.shape().str() + " has no batch dim");
  const Shape per_sample = x.shape().drop(0, 1);
  if (!built_)
    build(per_sample);
  else if (static_shapes_ && per_sample != input_shape_)
    output_shape(per_sample);  // validates; a layer may accept other shapes than the first (Dense)
  if (x.mask().defined()) refuse_mask_unless_supported(x);
  if (call_depth == 0) clear_losses();
  CallDepth depth;
  const ComputeDtypeScope compute(policy_.compute_dtype());
  Variable y = forward(x, training);
  if (x.mask().defined() && mask_support() == MaskSupport::passes && !y.mask().defined()) y.set_mask(x.mask());
  regularize_activity(y);
  return y;
}

void Layer::refuse_mask_unless_supported(const Variable& x) const {
  if (mask_support() != MaskSupport::refuses) return;
  fail(label(), "cannot take the mask of its input " + x.shape().str() + " (mask " + x.mask().shape().str() +
                    ", made by an Embedding with mask_zero or a Masking layer). Keras 2.15 would drop it here, silently, "
                    "and the layers after would read the masked steps as data. Layers that take a mask: the recurrent "
                    "layers, Bidirectional, TimeDistributed, GlobalAveragePooling1D, Dense, Dropout, the activation layers, "
                    "LayerNormalization. Otherwise make no mask (mask_zero = false, no Masking layer)");
}

void Layer::regularize_activity(const Variable& y) {
  if (!activity_regularizer_) return;
  // Keras 2 divides the activity penalty by the batch size.
  const float batch = static_cast<float>(std::max<int64_t>(1, y.rank() ? y.dim(0) : 1));
  add_loss(mul(activity_regularizer_->penalty(y), 1.0f / batch));
}

Variable Layer::operator()(const std::vector<Variable>& inputs, bool training) {
  std::vector<Variable> ys = call_list(inputs, training);
  if (ys.size() != 1)
    fail(label(), "has " + std::to_string(ys.size()) + " outputs; call_all() returns them all");
  return ys[0];
}

std::vector<Variable> Layer::call_list(const std::vector<Variable>& inputs, bool training) {
  if (inputs.empty()) fail(label(), "was called on an empty list of inputs");
  std::vector<Shape> shapes;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) fail(label(), "input " + std::to_string(i) + " is undefined");
    if (inputs[i].rank() < 1) fail(label(), "input " + std::to_string(i) + " " + inputs[i].shape().str() + " has no batch dim");
    if (inputs[i].dim(0) != inputs[0].dim(0))
      fail(label(), "inputs have different batch sizes: " + inputs[0].shape().str() + " and " + inputs[i].shape().str());
    shapes.push_back(inputs[i].shape().drop(0, 1));
  }
  if (!takes_input_list()) {
    if (inputs.size() != 1)
      fail(label(), "takes one input, got a list of " + std::to_string(inputs.size()));
    return {(*this)(inputs[0], training)};
  }
  for (const Variable& x : inputs)
    if (x.mask().defined()) refuse_mask_unless_supported(x);
  const std::vector<Shape> out = output_shapes_list(shapes);  // validates
  if (!built_) build_list(shapes, out);
  if (call_depth == 0) clear_losses();
  CallDepth depth;
  const ComputeDtypeScope compute(policy_.compute_dtype());
  std::vector<Variable> ys = forward_list(inputs, training);
  for (const Variable& y : ys) regularize_activity(y);
  return ys;
}

std::vector<Variable> Layer::forward_list(const std::vector<Variable>& inputs, bool training) {
  if (inputs.size() != 1) fail(label(), "takes one input, got a list of " + std::to_string(inputs.size()));
  return {forward(inputs[0], training)};
}

std::vector<Shape> Layer::output_shapes_list(const std::vector<Shape>& input_shapes) const {
  if (input_shapes.size() != 1) fail(label(), "takes one input, got a list of " + std::to_string(input_shapes.size()));
  return {output_shape(input_shapes[0])};
}

void Layer::mark_built(const Shape& output_shape) {
  built_ = true;
  output_shape_ = output_shape;
  has_output_shape_ = true;
}

std::shared_ptr<Layer> Layer::moved_to_shared() && {
  fail(label(), "cannot move into a graph: its class does not declare TAPEGRAD_LAYER(<the class>) in its public "
                "part. Declare it, or make the layer with std::make_shared and call (*layer)(x) instead");
}

void Layer::add_loss(const Variable& penalty) {
  if (!penalty.defined() || penalty.numel() != 1)
    fail(label(), "add_loss expects a scalar penalty, got " + (penalty.defined() ? penalty.shape().str() : "undefined"));
  losses_.push_back(penalty.rank() == 0 ? penalty : reshape(penalty, {}));
}

void Layer::clear_losses() {
  for (auto& [prefix, l] : unique_layers()) l->losses_.clear();
}

std::vector<Variable> Layer::loss_terms() const {
  std::vector<Variable> all;  // a shared layer's penalties (one per call) counted once
  for (const auto& [prefix, l] : unique_layers()) all.insert(all.end(), l->losses_.begin(), l->losses_.end());
  return all;
}

Variable Layer::losses() const {
  const auto terms = loss_terms();
  if (terms.empty()) return Variable(Tensor::scalar(0.0f));
  Variable total = terms[0];
  for (size_t i = 1; i < terms.size(); ++i) total = add(total, terms[i]);
  return total;
}

std::vector<ParameterPtr> Layer::parameters() const {
  std::vector<ParameterPtr> all;
  std::unordered_set<const Parameter*> seen;
  for (const auto& [prefix, l] : unique_layers())
    for (const auto& w : l->weights_)
      if (seen.insert(w.get()).second) {
        w->name = prefix + w->key;
        all.push_back(w);
      }
  return all;
}

std::vector<ParameterPtr> Layer::trainable_parameters() const {
  std::vector<ParameterPtr> out;
  for (auto& p : parameters())
    if (p->trainable) out.push_back(p);
  return out;
}

int64_t Layer::count_params() const {
  int64_t n = 0;
  for (const auto& p : parameters()) n += p->var.numel();
  return n;
}

std::vector<std::pair<std::string, Rng*>> Layer::random_generators() {
  std::vector<std::pair<std::string, Rng*>> out;
  for (auto& [prefix, l] : unique_layers()) {
    const auto own = l->own_generators();
    // A generator of the outermost layer itself is named after that layer ("dropout/rng").
    const std::string base = prefix.empty() ? name_ + "/" : prefix;
    for (size_t i = 0; i < own.size(); ++i) out.emplace_back(base + "rng" + (i ? "_" + std::to_string(i) : ""), own[i]);
  }
  return out;
}

void Layer::reset_states() {
  for (auto& [prefix, l] : unique_layers()) l->reset_own_states();
}

std::vector<std::pair<std::string, Layer::CarriedState>> Layer::carried_states() {
  std::vector<std::pair<std::string, CarriedState>> out;
  for (auto& [prefix, l] : unique_layers()) {
    const auto own = l->own_states();
    const std::string base = prefix.empty() ? name_ + "/" : prefix;
    for (size_t i = 0; i < own.size(); ++i) out.emplace_back(base + "state_" + std::to_string(i), own[i]);
  }
  return out;
}

void Layer::set_trainable(bool on) {
  // Weights created non-trainable (BatchNormalization's moving statistics: their Variable does
  // not require a gradient) stay non-trainable when the layer is unfrozen.
  for (auto& [prefix, l] : unique_layers()) {
    l->trainable_ = on;
    for (auto& w : l->weights_) w->trainable = on && w->var.requires_grad();
  }
}

ParameterPtr Layer::add_weight(const std::string& name, const Shape& shape, const Initializer& init,
                               std::shared_ptr<const Regularizer> regularizer,
                               std::shared_ptr<const Constraint> constraint, bool trainable) {
  Tensor value = init(shape, default_rng());
  if (value.shape() != shape)
    fail(label(), "initializer '" + init.name() + "' made a tensor of shape " + value.shape().str() + " for weight '" +
                      name + "' of shape " + shape.str());
  if (name.empty() || name.find('/') != std::string::npos)
    fail(label(), "weight name '" + name + "' must be non-empty and contain no '/'");
  for (const auto& w : weights_)
    if (w->key == name) fail(label(), "has two weights named '" + name + "'");
  auto p = std::make_shared<Parameter>();
  p->key = name;
  p->name = name;
  p->var = Variable(std::move(value), trainable);
  p->regularizer = std::move(regularizer);
  p->constraint = std::move(constraint);
  p->trainable = trainable && trainable_;
  weights_.push_back(p);
  return p;
}

void Layer::share_weight(ParameterPtr weight) {
  if (!weight || !weight->var.defined()) fail(label(), "cannot share a null or undefined weight");
  if (weight->key.empty()) weight->key = weight->name;  // a hand-made parameter: its name is its key
  if (weight->key.empty() || weight->key.find('/') != std::string::npos)
    fail(label(), "a shared weight needs a name without '/', got '" + weight->key + "'");
  for (const auto& w : weights_) {
    if (w == weight) return;
    if (w->key == weight->key)
      fail(label(), "already has a weight named '" + w->key + "'; the shared one has the same name");
  }
  weights_.push_back(std::move(weight));
}

}  // namespace tapegrad
