#pragma once
// Differentiable ops for neural-network layers, beyond the basic functional API of
// autograd/ops.h: Keras' activation functions, dropout masks, batch normalization and embedding
// lookup. Each op computes its forward and records its backward in one file
// (autograd/ops_<family>.cpp), and has a gradcheck test.
#include <limits>

#include "tapegrad/autograd/variable.h"
#include "tapegrad/core/rng.h"

namespace tapegrad {

// ---- activations (autograd/ops_nn_activation.cpp) ----

// Keras' relu with its parameters (ops take XParams, as conv takes ConvParams; the ReLU layer
// takes ReLUOptions, as every layer takes its XOptions):
//   f(x) = max_value                    for x >= max_value
//   f(x) = x                            for threshold < x < max_value
//   f(x) = negative_slope * (x - threshold) otherwise
struct ReLUParams {
  float negative_slope = 0.0f;
  float max_value = std::numeric_limits<float>::infinity();
  float threshold = 0.0f;
};
Variable relu(const Variable& x, const ReLUParams& options);
// x for x > 0, alpha * x otherwise.
Variable leaky_relu(const Variable& x, float alpha = 0.2f);
// x for x > 0, alpha * (exp(x) - 1) otherwise.
Variable elu(const Variable& x, float alpha = 1.0f);
// scale * elu(x, alpha) with the self-normalizing constants of Klambauer et al. (2017).
inline constexpr float kSeluAlpha = 1.6732632423543772848170429916717f;
inline constexpr float kSeluScale = 1.0507009873554804934193349852946f;
Variable selu(const Variable& x);
// 0.5 x (1 + erf(x / sqrt 2)); approximate: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
Variable gelu(const Variable& x, bool approximate = false);
// log(1 + exp(x)), stable for large |x|.
Variable softplus(const Variable& x);
// x / (1 + |x|).
Variable softsign(const Variable& x);
// Keras 2's piecewise-linear sigmoid: clip(0.2 x + 0.5, 0, 1).
Variable hard_sigmoid(const Variable& x);
// x * sigmoid(x) (also called silu).
Variable swish(const Variable& x);
// The Gauss error function.
Variable erf(const Variable& x);
// Keras' PReLU: x for x > 0, alpha * x otherwise, alpha learned and broadcast to x (NumPy rules;
// alpha's shape usually is x's per-sample shape with shared axes set to 1).
Variable prelu(const Variable& x, const Variable& alpha);

// ---- dropout (autograd/ops_dropout.cpp) ----

// A mask of `shape` for inverted dropout: each element 1 / (1 - rate) with probability 1 - rate,
// else 0. rate in [0, 1). Consumes ceil(numel / 4) blocks of `rng`; the values do not depend on
// the number of threads.
Tensor dropout_mask(const Shape& shape, float rate, Rng& rng);
// x * mask, the mask broadcast to x's shape (it must not enlarge x). The mask is a constant:
// the gradient is g * mask. Dropout, SpatialDropout and a gradcheck with a fixed mask use it.
Variable apply_mask(const Variable& x, const Tensor& mask);

// ---- normalization (autograd/ops_batch_norm.cpp) ----

// Training-mode batch normalization over every axis except `axis` (the channel axis, of C
// elements): y = gamma * (x - mean) / sqrt(var + epsilon) + beta with the batch's mean and
// (biased) variance per channel. gamma and beta are (C,); either may be undefined (Keras'
// scale=false / center=false). Fused: one op on the tape, parallel across the batch, the sums
// combined in a fixed order. With relu = true, y is max(y, 0) in the same pass, and the backward
// masks the gradient as it reads it: one op ("batch_norm_relu") instead of two, two passes over
// memory fewer (what Sequential does for BatchNormalization followed by ReLU). With a residual
// (x's shape), it is added before the relu in the same pass: relu(bn(x) + residual), a ResNet
// block's end, as one op ("batch_norm_add_relu", or "batch_norm_add" without the relu).
struct BatchNormResult {
  Variable y;
  Tensor mean;      // (C,): the batch mean per channel
  Tensor variance;  // (C,): the batch variance per channel (divided by N, not N - 1)
};
// synchronized: in a distributed job, the mean and variance are the whole job's batch's (every
// rank's rows), and so is the backward's (Keras' synchronized=True, PyTorch's SyncBatchNorm).
BatchNormResult batch_norm_train(const Variable& x, const Variable& gamma, const Variable& beta, int axis,
                                 float epsilon, bool relu = false, const Variable& residual = Variable(),
                                 bool synchronized = false);

// ---- embedding (autograd/ops_embedding.cpp) ----

// Rows of `table` (V, D) picked by `ids` (integer values stored as floats, each in [0, V)):
// the result has shape ids.shape + (D,). The gradient is scattered back (summed for repeated
// ids). `label` names the caller in error messages.
Variable embedding_lookup(const Variable& table, const Tensor& ids, const char* label = "embedding_lookup");

}  // namespace tapegrad
