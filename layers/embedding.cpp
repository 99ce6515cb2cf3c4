#include "tapegrad/layers/embedding.h"

#include <string>

#include "tapegrad/autograd/nn_ops.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad {

Embedding::Embedding(int64_t input_dim, int64_t output_dim, EmbeddingOptions options)
    : Layer("Embedding", options.name), input_dim_(input_dim), output_dim_(output_dim), options_(std::move(options)) {
  if (input_dim < 1 || output_dim < 1)
    fail(label(), "input_dim and output_dim must be positive, got " + std::to_string(input_dim) + " and " +
                      std::to_string(output_dim));
  set_activity_regularizer(options_.activity_regularizer);
}

Shape Embedding::output_shape(const Shape& input_shape) const {
  Shape out = input_shape;
  if (out.rank() + 2 > kMaxDims)
    fail(label(), "input " + with_batch_str(input_shape) + " has too many dims to add the embedding axis");
  out.push_back(output_dim_);
  return out;
}

void Embedding::build_impl(const Shape&) {
  embeddings_ = add_weight("embeddings", {input_dim_, output_dim_}, options_.embeddings_initializer,
                           options_.embeddings_regularizer, options_.embeddings_constraint);
}

Variable Embedding::forward(const Variable& x, bool /*training*/) {
  const std::string who = label();
  Variable y = embedding_lookup(embeddings_->var, x.value(), who.c_str());
  if (options_.mask_zero) y.set_mask(compute_mask(x.value()));
  return y;
}

Tensor Embedding::compute_mask(const Tensor& ids) const {
  if (!options_.mask_zero) fail(label(), "compute_mask needs mask_zero = true");
  return sub(Tensor::ones(ids.shape()), equal(ids, Tensor::scalar(0.0f)));
}

}  // namespace tapegrad
