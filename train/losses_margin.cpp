#include <algorithm>
#include <cmath>

#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/tensor_ops.h"
#include "train/categorical_hinge_op.h"
#include "train/loss_helpers.h"
#include "tapegrad/train/losses.h"
#include "train/pointwise_loss_op.h"

namespace tapegrad::losses {

namespace {

// Keras: if every label of the whole tensor is 0 or 1, labels become -1 / +1.
Tensor signed_labels(const Tensor& y_true) {
  const float* t = y_true.data();
  const bool binary = std::all_of(t, t + y_true.numel(), [](float v) { return v == 0.0f || v == 1.0f; });
  return binary ? add(mul(y_true, 2.0f), -1.0f) : y_true;
}

}  // namespace

Variable hinge(const Tensor& y_true, const Variable& y_pred, const Reduce& reduce) {
  const char* op = "hinge";
  require_same_shape(y_true, y_pred, op);
  return reduce_loss(mean_last_axis(pointwise_loss(op, signed_labels(y_true), y_pred, [](float t, float p) {
                       const float m = 1.0f - t * p;
                       return m > 0.0f ? std::pair{m, -t} : std::pair{0.0f, 0.0f};
                     })),
                     reduce, op);
}

Variable squared_hinge(const Tensor& y_true, const Variable& y_pred, const Reduce& reduce) {
  const char* op = "squared_hinge";
  require_same_shape(y_true, y_pred, op);
  return reduce_loss(mean_last_axis(pointwise_loss(op, signed_labels(y_true), y_pred, [](float t, float p) {
                       const float m = std::max(1.0f - t * p, 0.0f);
                       return std::pair{m * m, -2.0f * t * m};
                     })),
                     reduce, op);
}

Variable categorical_hinge(const Tensor& y_true, const Variable& y_pred, const Reduce& reduce) {
  const char* op = "categorical_hinge";
  require_rank2(y_pred, op);
  require_same_shape(y_true, y_pred, op);
  return reduce_loss(categorical_hinge_per_sample(y_true, y_pred), reduce, op);
}

Variable cosine_similarity(const Tensor& y_true, const Variable& y_pred, const Reduce& reduce) {
  const char* op = "cosine_similarity";
  require_same_shape(y_true, y_pred, op);
  if (y_pred.rank() < 1) fail(op, "y_pred " + y_pred.shape().str() + " needs at least one axis");
  constexpr float kNormEpsilon = 1e-12f;  // tf.linalg.l2_normalize's
  const float kHuge = 3.0e38f;
  // y_true is data: normalised without the tape. y_pred through differentiable ops.
  const Tensor t_norm = mul(y_true, pow(clip(sum(mul(y_true, y_true), {-1}, true), kNormEpsilon, kHuge), -0.5f));
  const Variable p_norm = mul(y_pred, pow(clip(sum(mul(y_pred, y_pred), {-1}, true), kNormEpsilon, kHuge), -0.5f));
  return reduce_loss(neg(sum(mul(Variable(t_norm), p_norm), {-1})), reduce, op);
}

}  // namespace tapegrad::losses
