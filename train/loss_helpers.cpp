#include "train/loss_helpers.h"

#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/error.h"

namespace tapegrad::losses {

Variable mean_last_axis(const Variable& x) { return x.rank() >= 2 ? mean(x, {-1}) : x; }

Variable sum_last_axis(const Variable& x) { return x.rank() >= 2 ? sum(x, {-1}) : x; }

void require_same_shape(const Tensor& y_true, const Variable& y_pred, const char* op) {
  if (y_true.shape() != y_pred.shape())
    fail(op, "y_true " + y_true.shape().str() + " and y_pred " + y_pred.shape().str() + " differ");
}

void require_rank2(const Variable& y_pred, const char* op) {
  if (y_pred.rank() != 2) fail(op, "y_pred " + y_pred.shape().str() + " must be (batch, classes)");
}

}  // namespace tapegrad::losses
