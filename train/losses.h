#pragma once
// Losses as ops on the tape, with Keras' argument order (y_true, y_pred) and its default
// reduction: the mean over the samples of the batch ("sum_over_batch_size").
#include "autograd/variable.h"

namespace tapegrad::losses {

// mean((y_pred - y_true)^2), over every element.
Variable mean_squared_error(const Tensor& y_true, const Variable& y_pred);

struct CrossEntropyOptions {
  bool from_logits = false;
  // Keras: targets become y * (1 - s) + s / classes. Categorical only (Keras' sparse loss has none).
  float label_smoothing = 0.0f;
};

// y_true: one-hot (or soft) targets of y_pred's shape (batch, classes). From probabilities, as
// Keras: each row divided by its sum, clipped to [1e-7, 1 - 1e-7], then -sum(y log p).
Variable categorical_crossentropy(const Tensor& y_true, const Variable& y_pred, CrossEntropyOptions options = {});

// y_true: integer class ids, shape (batch,) or (batch, 1). From logits it is one fused op
// (log-softmax and pick), stable for logits of any size.
Variable sparse_categorical_crossentropy(const Tensor& y_true, const Variable& y_pred, CrossEntropyOptions options = {});

}  // namespace tapegrad::losses
