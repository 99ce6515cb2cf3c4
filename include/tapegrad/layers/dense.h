#pragma once
// Dense: output = activation(x · kernel + bias), applied to the last axis of inputs of any rank
// (Keras semantics: (batch, ..., in) -> (batch, ..., units)). kernel is (in, units).
#include <memory>

#include "tapegrad/layers/activation.h"
#include "tapegrad/layers/constraint.h"
#include "tapegrad/layers/initializer.h"
#include "tapegrad/layers/layer.h"
#include "tapegrad/layers/regularizer.h"

namespace tapegrad {

struct DenseOptions {
  Activation activation = {};
  bool use_bias = true;
  Initializer kernel_initializer = "glorot_uniform";
  Initializer bias_initializer = "zeros";
  RegularizerOption kernel_regularizer = nullptr;
  RegularizerOption bias_regularizer = nullptr;
  RegularizerOption activity_regularizer = nullptr;
  ConstraintOption kernel_constraint = nullptr;
  ConstraintOption bias_constraint = nullptr;
  std::string name = "";
  std::string dtype = "";  // a dtype policy ("mixed_bfloat16"); empty: the global one
};

class Dense : public Layer {
 public:
  TAPEGRAD_LAYER(Dense)
  // as Keras' Dense: a mask over steps stays with them
  MaskSupport mask_support() const override { return MaskSupport::passes; }
  explicit Dense(int64_t units, DenseOptions options = {});

  Shape output_shape(const Shape& input_shape) const override;
  int64_t units() const { return units_; }
  const DenseOptions& options() const { return options_; }  // as given (architecture JSON)
  // The weights; null before build().
  const ParameterPtr& kernel() const { return kernel_; }
  const ParameterPtr& bias() const { return bias_; }

 protected:
  void build_impl(const Shape& input_shape) override;
  Variable forward(const Variable& x, bool training) override;

 private:
  int64_t units_;
  DenseOptions options_;
  ParameterPtr kernel_, bias_;
};

}  // namespace tapegrad
