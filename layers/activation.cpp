#include "layers/activation.h"

#include <map>

#include "autograd/ops.h"
#include "core/error.h"

namespace tapegrad {

namespace {

const std::map<std::string, ActivationFn>& registry() {
  static const std::map<std::string, ActivationFn> names = {
      {"linear", nullptr},
      {"relu", [](const Variable& x) { return relu(x); }},
      {"sigmoid", [](const Variable& x) { return sigmoid(x); }},
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
  const auto& r = registry();
  const auto it = r.find(name);
  if (it == r.end()) fail("Activation", "unknown activation '" + name + "'; known: " + joined(activation_names()));
  fn_ = it->second;
}

Activation::Activation(ActivationFn fn, std::string name) : name_(std::move(name)), fn_(std::move(fn)) {
  if (!fn_) fail("Activation", "the custom activation '" + name_ + "' is empty");
}

std::vector<std::string> activation_names() {
  std::vector<std::string> names;
  for (const auto& [name, fn] : registry()) names.push_back(name);
  return names;
}

}  // namespace tapegrad
