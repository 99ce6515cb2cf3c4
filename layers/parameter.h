#pragma once
// Parameter: a named trainable (or frozen) weight of a layer, with the regularizer and
// constraint that the optimizer applies to it.
#include <memory>
#include <string>

#include "autograd/variable.h"
#include "layers/constraint.h"
#include "layers/regularizer.h"

namespace tapegrad {

struct Parameter {
  std::string name;  // "dense_1/kernel"
  Variable var;
  std::shared_ptr<const Regularizer> regularizer;  // may be null
  std::shared_ptr<const Constraint> constraint;    // may be null
  bool trainable = true;
};

using ParameterPtr = std::shared_ptr<Parameter>;

}  // namespace tapegrad
