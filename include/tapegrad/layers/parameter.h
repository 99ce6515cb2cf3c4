#pragma once
// Parameter: a named trainable (or frozen) weight of a layer, with the regularizer and
// constraint that the optimizer applies to it.
#include <memory>
#include <string>

#include "tapegrad/autograd/variable.h"
#include "tapegrad/layers/constraint.h"
#include "tapegrad/layers/regularizer.h"

namespace tapegrad {

struct Parameter {
  std::string name;  // its path from the model it was last listed from: "block1/dense/kernel"
  Variable var;
  std::shared_ptr<const Regularizer> regularizer;  // may be null
  std::shared_ptr<const Constraint> constraint;    // may be null
  bool trainable = true;
  std::string key;  // its name in the layer that created it: "kernel" (empty for a hand-made one)
};

using ParameterPtr = std::shared_ptr<Parameter>;

}  // namespace tapegrad
