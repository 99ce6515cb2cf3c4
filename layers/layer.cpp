#include "layers/layer.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <regex>

#include "autograd/ops.h"
#include "autograd/tape.h"
#include "core/error.h"
#include "core/rng.h"

namespace tapegrad {

namespace {
// Keras' to_snake_case: "BatchNormalization" -> "batch_normalization",
// "Conv2DTranspose" -> "conv2d_transpose".
std::string snake_case(const std::string& type) {
  static const std::regex word_start("(.)([A-Z][a-z0-9]+)");
  static const std::regex lower_upper("([a-z])([A-Z])");
  std::string s = std::regex_replace(std::regex_replace(type, word_start, "$1_$2"), lower_upper, "$1_$2");
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
}  // namespace

std::string unique_layer_name(const std::string& type) {
  static std::mutex mutex;  // cheap insurance: layers built on several threads still get unique names
  std::lock_guard<std::mutex> lock(mutex);
  static std::map<std::string, int> counts;
  const std::string base = snake_case(type);
  const int n = counts[base]++;
  return n == 0 ? base : base + "_" + std::to_string(n);
}

Layer::Layer(std::string type, std::string name)
    : type_(std::move(type)), name_(name.empty() ? unique_layer_name(type_) : std::move(name)) {}

void Layer::build(const Shape& input_shape) {
  if (built_) {
    if (input_shape != input_shape_)
      fail(label(), "was built for inputs " + input_shape_.str() + " (without batch), got " + input_shape.str());
    return;
  }
  output_shape(input_shape);  // validates; throws a clear error for a bad shape
  build_impl(input_shape);
  input_shape_ = input_shape;
  built_ = true;
  // Sub-layers that build_impl() left unbuilt (a model class whose forward() composes them) are
  // built by running forward() once on a zero batch of one, as Keras builds subclassed models.
  const bool pending = std::any_of(sublayers_.begin(), sublayers_.end(), [](const auto& l) { return !l->built(); });
  if (pending) {
    NoGradGuard no_grad;
    Shape batch{1};
    for (int64_t d : input_shape) batch.push_back(d);
    forward(Variable(Tensor::zeros(batch)), /*training=*/false);
    clear_losses();
  }
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
  if (built_)
    output_shape(per_sample);  // validates; a layer may accept other shapes than the first (Dense)
  else
    build(per_sample);
  if (call_depth == 0) clear_losses();
  CallDepth depth;
  Variable y = forward(x, training);
  if (activity_regularizer_) {
    // Keras 2 divides the activity penalty by the batch size.
    const float batch = static_cast<float>(std::max<int64_t>(1, y.dim(0)));
    add_loss(mul(activity_regularizer_->penalty(y), 1.0f / batch));
  }
  return y;
}

void Layer::add_loss(const Variable& penalty) {
  if (!penalty.defined() || penalty.numel() != 1)
    fail(label(), "add_loss expects a scalar penalty, got " + (penalty.defined() ? penalty.shape().str() : "undefined"));
  losses_.push_back(penalty.rank() == 0 ? penalty : reshape(penalty, {}));
}

void Layer::clear_losses() {
  losses_.clear();
  for (auto& sub : sublayers_) sub->clear_losses();
}

std::vector<Variable> Layer::loss_terms() const {
  std::vector<Variable> all = losses_;
  for (const auto& sub : sublayers_) {
    auto more = sub->loss_terms();
    all.insert(all.end(), more.begin(), more.end());
  }
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
  std::vector<ParameterPtr> all = weights_;
  for (const auto& sub : sublayers_) {
    auto more = sub->parameters();
    all.insert(all.end(), more.begin(), more.end());
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
  const auto own = own_generators();
  for (size_t i = 0; i < own.size(); ++i) out.emplace_back(name_ + "/rng" + (i ? "_" + std::to_string(i) : ""), own[i]);
  for (auto& sub : sublayers_) {
    auto more = sub->random_generators();
    out.insert(out.end(), more.begin(), more.end());
  }
  return out;
}

void Layer::set_trainable(bool on) {
  trainable_ = on;
  // Weights created non-trainable (BatchNormalization's moving statistics: their Variable does
  // not require a gradient) stay non-trainable when the layer is unfrozen.
  for (auto& w : weights_) w->trainable = on && w->var.requires_grad();
  for (auto& sub : sublayers_) sub->set_trainable(on);
}

ParameterPtr Layer::add_weight(const std::string& name, const Shape& shape, const Initializer& init,
                               std::shared_ptr<const Regularizer> regularizer,
                               std::shared_ptr<const Constraint> constraint, bool trainable) {
  Tensor value = init(shape, default_rng());
  if (value.shape() != shape)
    fail(label(), "initializer '" + init.name() + "' made a tensor of shape " + value.shape().str() + " for weight '" +
                      name + "' of shape " + shape.str());
  auto p = std::make_shared<Parameter>();
  p->name = name_ + "/" + name;
  p->var = Variable(std::move(value), trainable);
  p->regularizer = std::move(regularizer);
  p->constraint = std::move(constraint);
  p->trainable = trainable && trainable_;
  weights_.push_back(p);
  return p;
}

void Layer::add_sublayer(std::shared_ptr<Layer> layer) {
  if (!layer) fail(label(), "cannot add a null sub-layer");
  sublayers_.push_back(std::move(layer));
}

}  // namespace tapegrad
