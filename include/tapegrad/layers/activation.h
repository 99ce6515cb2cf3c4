#pragma once
// Activation: a function applied to a layer's output, given by name ("relu"), by a factory with
// Keras' parameters (Activation::relu({.max_value = 6})), or as any callable
// Variable(const Variable&). Names resolve through one registry; an unknown name is an error
// that lists the known ones.
#include <functional>
#include <string>
#include <vector>

#include "tapegrad/autograd/nn_ops.h"
#include "tapegrad/autograd/variable.h"

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
  // The plain max(x, 0) by name "relu" (not a parameterized relu): layers may fuse it.
  bool is_plain_relu() const { return plain_relu_; }
  // Whether name() alone says what this activation computes, as Keras serializes activations:
  // made by name, or by a factory with its default arguments. A custom callable, or relu with a
  // max_value, is not (architecture JSON refuses it).
  bool named() const { return named_; }

  // Keras' activation functions with their arguments (the names give the defaults).
  static Activation relu(const ReLUParams& options = {});
  static Activation leaky_relu(float negative_slope = 0.2f);
  static Activation elu(float alpha = 1.0f);
  static Activation gelu(bool approximate = false);
  static Activation softmax(int axis = -1);
  static Activation log_softmax(int axis = -1);

 private:
  std::string name_;
  bool plain_relu_ = false;
  bool named_ = true;
  ActivationFn fn_;  // empty for linear
};

// Names the registry knows, sorted: elu, exponential, gelu, hard_sigmoid, leaky_relu, linear,
// log_softmax, relu, relu6, selu, sigmoid, silu, softmax, softplus, softsign, swish, tanh.
std::vector<std::string> activation_names();

// Adds an activation by name, so that {.activation = "mish"} finds it in every layer; a name
// already taken is an error. Write the function with ops (tapegrad/autograd/pointwise.h makes a
// fused one from f and f'), and it needs no private header.
void register_activation(const std::string& name, ActivationFn fn);

}  // namespace tapegrad
