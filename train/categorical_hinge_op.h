#pragma once
// Keras' categorical hinge per sample as one op: max(max_j((1 - t_j) p_j) - sum_j(t_j p_j) + 1, 0).
// The row max has no differentiable op of its own; its gradient goes to the first maximal entry.
#include "tapegrad/autograd/variable.h"

namespace tapegrad::losses {

// y_true and y_pred (batch, classes) of equal shape (the caller checks); returns (batch,).
Variable categorical_hinge_per_sample(const Tensor& y_true, const Variable& y_pred);

}  // namespace tapegrad::losses
