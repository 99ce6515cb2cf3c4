#pragma once
// Losses as ops on the tape, Keras 2.15's formulas, argument order (y_true, y_pred) and default
// reduction: the mean of the per-sample values ("sum_over_batch_size"). Every function takes a
// trailing `Reduce` ({.reduction, .sample_weight}, train/reduction.h); with Reduction::none it
// returns the per-sample values. Per-sample = the last axis reduced (rank-1 inputs are one value
// per sample). Loss objects that hold their options live in train/loss.h.
// Errors name the loss and both shapes, e.g. "mean_squared_error: y_true (3, 2) and y_pred (2, 3) differ".
#include "tapegrad/autograd/variable.h"
#include "tapegrad/train/reduction.h"

namespace tapegrad::losses {

// ---- regression (train/losses_regression.cpp) ----
// mean((y_pred - y_true)^2) over the last axis.
Variable mean_squared_error(const Tensor& y_true, const Variable& y_pred, const Reduce& reduce = {});
// mean(|y_pred - y_true|).
Variable mean_absolute_error(const Tensor& y_true, const Variable& y_pred, const Reduce& reduce = {});
// 100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7)).
Variable mean_absolute_percentage_error(const Tensor& y_true, const Variable& y_pred, const Reduce& reduce = {});
// mean((log(max(y_pred, 1e-7) + 1) - log(max(y_true, 1e-7) + 1))^2).
Variable mean_squared_logarithmic_error(const Tensor& y_true, const Variable& y_pred, const Reduce& reduce = {});
// mean(0.5 e^2 where |e| <= delta, else delta * |e| - 0.5 delta^2), e = y_pred - y_true.
Variable huber(const Tensor& y_true, const Variable& y_pred, float delta = 1.0f, const Reduce& reduce = {});
// mean(log(cosh(e))), computed as e + softplus(-2e) - log 2 (finite for any e).
Variable log_cosh(const Tensor& y_true, const Variable& y_pred, const Reduce& reduce = {});
// mean(y_pred - y_true * log(y_pred + 1e-7)).
Variable poisson(const Tensor& y_true, const Variable& y_pred, const Reduce& reduce = {});

// ---- cross-entropies (train/losses_crossentropy.cpp) ----
struct CrossEntropyOptions {
  bool from_logits = false;
  // Binary: targets become y (1 - s) + 0.5 s; categorical: y (1 - s) + s / classes. Keras' sparse
  // loss has none (an error here).
  float label_smoothing = 0.0f;
};

// Element-wise, averaged over the last axis. From logits: max(x, 0) - x z + log1p(exp(-|x|)).
// From probabilities, Keras' quirk: p clipped to [1e-7, 1 - 1e-7], then
// -(z log(p + 1e-7) + (1 - z) log(1 - p + 1e-7)) (epsilon added a second time).
Variable binary_crossentropy(const Tensor& y_true, const Variable& y_pred, CrossEntropyOptions options = {},
                             const Reduce& reduce = {});
// y_true: one-hot (or soft) targets of y_pred's shape (batch, classes). From probabilities, as
// Keras: each row divided by its sum, clipped to [1e-7, 1 - 1e-7], then -sum(y log p).
Variable categorical_crossentropy(const Tensor& y_true, const Variable& y_pred, CrossEntropyOptions options = {},
                                  const Reduce& reduce = {});
// y_true: integer class ids, shape (batch,) or (batch, 1). From logits it is one fused op
// (log-softmax and pick), stable for logits of any size. From probabilities, Keras: clip to
// [1e-7, 1 - 1e-7], log, then the logits path (so the result is -log p_t + log sum_j clip(p_j)).
Variable sparse_categorical_crossentropy(const Tensor& y_true, const Variable& y_pred, CrossEntropyOptions options = {},
                                         const Reduce& reduce = {});
// sum(t log(t / p)) over the last axis, both clipped to [1e-7, 1].
Variable kl_divergence(const Tensor& y_true, const Variable& y_pred, const Reduce& reduce = {});

// ---- margins and angles (train/losses_margin.cpp) ----
// mean(max(1 - t p, 0)); labels in {0, 1} (every one of them) are first mapped to -1 / +1.
Variable hinge(const Tensor& y_true, const Variable& y_pred, const Reduce& reduce = {});
// mean(max(1 - t p, 0)^2), labels mapped as hinge().
Variable squared_hinge(const Tensor& y_true, const Variable& y_pred, const Reduce& reduce = {});
// max(max((1 - t) p) - sum(t p) + 1, 0) per sample; (batch, classes) inputs.
Variable categorical_hinge(const Tensor& y_true, const Variable& y_pred, const Reduce& reduce = {});
// -sum(l2_normalize(y_true) * l2_normalize(y_pred)) over the last axis: the NEGATIVE cosine, as
// Keras; l2_normalize(x) = x / sqrt(max(sum x^2, 1e-12)), so a zero vector gives 0.
Variable cosine_similarity(const Tensor& y_true, const Variable& y_pred, const Reduce& reduce = {});

}  // namespace tapegrad::losses
