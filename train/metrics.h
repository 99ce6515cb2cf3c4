#pragma once
// Metric functions on whole tensors (the stateful metric objects come with the training loop).
#include "core/tensor.h"

namespace tapegrad::metrics {

// Fraction of rows of y_pred (batch, classes) whose argmax equals the class id in y_true.
double sparse_categorical_accuracy(const Tensor& y_true, const Tensor& y_pred);

}  // namespace tapegrad::metrics
