#pragma once
// LayerNormalization, Keras semantics: each sample is normalized over `axis` (by default the last
// axis) with its own mean and variance, y = gamma * (x - mean) / sqrt(var + epsilon) + beta, with
// gamma and beta of the normalized axes' shape. Same in training and inference.
#include <memory>
#include <string>
#include <vector>

#include "tapegrad/layers/constraint.h"
#include "tapegrad/layers/initializer.h"
#include "tapegrad/layers/layer.h"
#include "tapegrad/layers/regularizer.h"

namespace tapegrad {

struct LayerNormalizationOptions {
  std::vector<int> axis = {-1};  // of the input with its batch dim; not the batch axis 0
  float epsilon = 1e-3f;
  bool center = true;
  bool scale = true;
  Initializer beta_initializer = "zeros";
  Initializer gamma_initializer = "ones";
  RegularizerOption beta_regularizer = nullptr;
  RegularizerOption gamma_regularizer = nullptr;
  ConstraintOption beta_constraint = nullptr;
  ConstraintOption gamma_constraint = nullptr;
  std::string name = "";
};

class LayerNormalization : public Layer {
 public:
  TAPEGRAD_LAYER(LayerNormalization)
  MaskSupport mask_support() const override { return MaskSupport::passes; }
  explicit LayerNormalization(LayerNormalizationOptions options = {});

  Shape output_shape(const Shape& input_shape) const override;
  const ParameterPtr& gamma() const { return gamma_; }
  const ParameterPtr& beta() const { return beta_; }
  const LayerNormalizationOptions& options() const { return options_; }

 protected:
  void build_impl(const Shape& input_shape) override;
  Variable forward(const Variable& x, bool training) override;

 private:
  LayerNormalizationOptions options_;
  ParameterPtr gamma_, beta_;

  // The normalized axes of the input with its batch dim, sorted, each in [1, rank).
  std::vector<int> axes(int rank_with_batch) const;
};

}  // namespace tapegrad
