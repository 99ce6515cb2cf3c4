#include "tapegrad/layers/activation.h"

#include <map>
#include <mutex>

#include "tapegrad/autograd/nn_ops.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/error.h"

namespace tapegrad {

namespace {

// Keras' names with their default arguments (Keras 2.15: gelu exact, leaky_relu slope 0.2 as
// tf.nn.leaky_relu, hard_sigmoid piecewise 0.2 x + 0.5).
// The registry: Keras' names, plus those register_activation() adds (under a lock: layers may be
// built on several threads).
std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}

std::map<std::string, ActivationFn>& registry() {
  static std::map<std::string, ActivationFn> names = {
      {"linear", nullptr},
      {"relu", [](const Variable& x) { return relu(x); }},
      {"relu6", [](const Variable& x) { return relu(x, ReLUParams{.max_value = 6.0f}); }},
      {"leaky_relu", [](const Variable& x) { return leaky_relu(x, 0.2f); }},
      {"elu", [](const Variable& x) { return elu(x, 1.0f); }},
      {"selu", [](const Variable& x) { return selu(x); }},
      {"gelu", [](const Variable& x) { return gelu(x, false); }},
      {"sigmoid", [](const Variable& x) { return sigmoid(x); }},
      {"hard_sigmoid", [](const Variable& x) { return hard_sigmoid(x); }},
      {"swish", [](const Variable& x) { return swish(x); }},
      {"silu", [](const Variable& x) { return swish(x); }},
      {"softplus", [](const Variable& x) { return softplus(x); }},
      {"softsign", [](const Variable& x) { return softsign(x); }},
      {"tanh", [](const Variable& x) { return tanh(x); }},
      {"softmax", [](const Variable& x) { return softmax(x, -1); }},
      {"log_softmax", [](const Variable& x) { return log_softmax(x, -1); }},
      {"exponential", [](const Variable& x) { return exp(x); }},
  };
  return names;
}

std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

Activation::Activation() : name_("linear") {}

Activation::Activation(const char* name) : Activation(std::string(name)) {}

Activation::Activation(const std::string& name) : name_(name) {
  {
    std::lock_guard<std::mutex> lock(registry_mutex());
    const auto& r = registry();
    const auto it = r.find(name);
    if (it != r.end()) fn_ = it->second;
    else name_.clear();
  }
  if (name_.empty()) fail("Activation", "unknown activation '" + name + "'; known: " + joined(activation_names()));
  name_ = name;
  plain_relu_ = name == "relu";
}

Activation::Activation(ActivationFn fn, std::string name) : name_(std::move(name)), named_(false), fn_(std::move(fn)) {
  if (!fn_) fail("Activation", "the custom activation '" + name_ + "' is empty");
}

namespace {
// A factory's result with its default arguments computes what its name does.
Activation named_if(Activation a, bool defaults) {
  return defaults ? Activation(a.name()) : a;
}
}  // namespace

Activation Activation::relu(const ReLUParams& options) {
  // Validate now, not at the first forward pass.
  if (!(options.negative_slope >= 0.0f) || !(options.max_value >= 0.0f))
    fail("Activation::relu", "negative_slope and max_value must be >= 0, got " + std::to_string(options.negative_slope) +
                                 " and " + std::to_string(options.max_value));
  const ReLUParams defaults;
  return named_if(Activation([options](const Variable& x) { return tapegrad::relu(x, options); }, "relu"),
                  options.negative_slope == defaults.negative_slope && options.max_value == defaults.max_value &&
                      options.threshold == defaults.threshold);
}

Activation Activation::leaky_relu(float negative_slope) {
  return named_if(Activation([negative_slope](const Variable& x) { return tapegrad::leaky_relu(x, negative_slope); },
                             "leaky_relu"),
                  negative_slope == 0.2f);
}

Activation Activation::elu(float alpha) {
  return named_if(Activation([alpha](const Variable& x) { return tapegrad::elu(x, alpha); }, "elu"), alpha == 1.0f);
}

Activation Activation::gelu(bool approximate) {
  return named_if(Activation([approximate](const Variable& x) { return tapegrad::gelu(x, approximate); }, "gelu"),
                  !approximate);
}

Activation Activation::softmax(int axis) {
  return named_if(Activation([axis](const Variable& x) { return tapegrad::softmax(x, axis); }, "softmax"), axis == -1);
}

Activation Activation::log_softmax(int axis) {
  return named_if(Activation([axis](const Variable& x) { return tapegrad::log_softmax(x, axis); }, "log_softmax"),
                  axis == -1);
}

std::vector<std::string> activation_names() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  std::vector<std::string> names;
  for (const auto& [name, fn] : registry()) names.push_back(name);
  return names;
}

void register_activation(const std::string& name, ActivationFn fn) {
  if (name.empty()) fail("register_activation", "the name is empty");
  if (!fn) fail("register_activation", "the function for '" + name + "' is empty");
  std::lock_guard<std::mutex> lock(registry_mutex());
  if (!registry().emplace(name, std::move(fn)).second)
    fail("register_activation", "an activation named '" + name + "' is already registered");
}

}  // namespace tapegrad
