#pragma once
// Embedding: turns integer ids (stored as floats in the input tensor) into dense vectors, rows of
// a learned (input_dim, output_dim) table: (batch, ...) -> (batch, ..., output_dim). An id
// outside [0, input_dim) or not an integer is an error naming the layer. With mask_zero, id 0 is
// padding: compute_mask() gives 1 where an id is non-zero, for a loss or layer that masks (the
// vocabulary then needs input_dim = vocabulary size + 1, as in Keras).
#include <memory>
#include <string>

#include "tapegrad/layers/constraint.h"
#include "tapegrad/layers/initializer.h"
#include "tapegrad/layers/layer.h"
#include "tapegrad/layers/regularizer.h"

namespace tapegrad {

struct EmbeddingOptions {
  Initializer embeddings_initializer = "uniform";  // Keras: RandomUniform(-0.05, 0.05)
  RegularizerOption embeddings_regularizer = nullptr;
  RegularizerOption activity_regularizer = nullptr;
  ConstraintOption embeddings_constraint = nullptr;
  bool mask_zero = false;
  std::string name = "";
};

class Embedding : public Layer {
 public:
  TAPEGRAD_LAYER(Embedding)
  // with mask_zero, the output's mask is where the input is not 0
  MaskSupport mask_support() const override { return MaskSupport::computes; }
  Embedding(int64_t input_dim, int64_t output_dim, EmbeddingOptions options = {});

  Shape output_shape(const Shape& input_shape) const override;
  const ParameterPtr& embeddings() const { return embeddings_; }
  bool mask_zero() const { return options_.mask_zero; }
  int64_t input_dim() const { return input_dim_; }
  int64_t output_dim() const { return output_dim_; }
  const EmbeddingOptions& options() const { return options_; }
  // 1.0 where ids != 0, else 0.0 (same shape as ids); an error without mask_zero.
  Tensor compute_mask(const Tensor& ids) const;

 protected:
  void build_impl(const Shape& input_shape) override;
  Variable forward(const Variable& x, bool training) override;

 private:
  int64_t input_dim_, output_dim_;
  EmbeddingOptions options_;
  ParameterPtr embeddings_;
};

}  // namespace tapegrad
