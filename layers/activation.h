#pragma once
// Activation: a function applied to a layer's output, given by name ("relu") or as any callable
// Variable(const Variable&). Names resolve through one registry; an unknown name is an error
// that lists the known ones.
#include <functional>
#include <string>
#include <vector>

#include "autograd/variable.h"

namespace tapegrad {

using ActivationFn = std::function<Variable(const Variable&)>;

class Activation {
 public:
  Activation();  // linear (identity)
  Activation(const char* name);  // NOLINT: implicit, so options read `.activation = "relu"`
  Activation(const std::string& name);  // NOLINT
  Activation(ActivationFn fn, std::string name = "custom");

  Variable operator()(const Variable& x) const { return fn_ ? fn_(x) : x; }
  const std::string& name() const { return name_; }
  bool is_linear() const { return !fn_; }

 private:
  std::string name_;
  ActivationFn fn_;  // empty for linear
};

// Names the registry knows, sorted.
std::vector<std::string> activation_names();

}  // namespace tapegrad
