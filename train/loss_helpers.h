#pragma once
// Pieces the loss files share (internal to train/).
#include "tapegrad/autograd/variable.h"

namespace tapegrad::losses {

constexpr float kEpsilon = 1e-7f;  // Keras' backend epsilon

// Mean over the last axis (Keras' per-sample reduction); rank 0 and 1 are already per sample.
Variable mean_last_axis(const Variable& x);
// Sum over the last axis; rank 0 and 1 unchanged.
Variable sum_last_axis(const Variable& x);
// Throws "op: y_true S and y_pred S differ" unless the shapes are equal.
void require_same_shape(const Tensor& y_true, const Variable& y_pred, const char* op);
// Throws unless y_pred is (batch, classes).
void require_rank2(const Variable& y_pred, const char* op);

}  // namespace tapegrad::losses
