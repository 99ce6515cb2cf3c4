#include "train/metrics.h"

#include "core/error.h"
#include "core/tensor_ops.h"

namespace tapegrad::metrics {

double sparse_categorical_accuracy(const Tensor& y_true, const Tensor& y_pred) {
  if (y_pred.rank() != 2 || y_true.numel() != y_pred.dim(0))
    fail("sparse_categorical_accuracy", "y_true " + y_true.shape().str() + " must hold one class id per row of y_pred " +
                                            y_pred.shape().str());
  if (y_pred.dim(0) == 0) return 0.0;
  const Tensor predicted = argmax(y_pred, 1);
  int64_t hits = 0;
  for (int64_t i = 0; i < predicted.numel(); ++i) hits += predicted.data()[i] == y_true.data()[i];
  return static_cast<double>(hits) / static_cast<double>(predicted.numel());
}

}  // namespace tapegrad::metrics
