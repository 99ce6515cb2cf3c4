#include <algorithm>
#include <cmath>
#include <string>

#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/tensor_ops.h"
#include "train/class_ids.h"
#include "train/loss_helpers.h"
#include "tapegrad/train/losses.h"
#include "train/pointwise_loss_op.h"
#include "train/sparse_crossentropy_op.h"

namespace tapegrad::losses {

namespace {

void check_smoothing(float s, const char* op) {
  if (!(s >= 0.0f && s <= 1.0f)) fail(op, "label_smoothing must be in [0, 1], got " + std::to_string(s));
}

// Class ids as integers, validated against the number of classes.
std::vector<int64_t> class_ids(const Tensor& y_true, int64_t batch, int64_t classes, const char* op) {
  const bool shape_ok = (y_true.rank() == 1 && y_true.dim(0) == batch) ||
                        (y_true.rank() == 2 && y_true.dim(0) == batch && y_true.dim(1) == 1);
  if (!shape_ok)
    fail(op, "y_true " + y_true.shape().str() + " must be (" + std::to_string(batch) + ",) or (" + std::to_string(batch) +
                 ", 1) class ids for y_pred of " + std::to_string(batch) + " samples");
  return checked_class_ids(y_true, batch, classes, op);
}

float stable_sigmoid(float x) {
  if (x >= 0.0f) return 1.0f / (1.0f + std::exp(-x));
  const float e = std::exp(x);
  return e / (1.0f + e);
}

}  // namespace

Variable binary_crossentropy(const Tensor& y_true, const Variable& y_pred, CrossEntropyOptions options,
                             const Reduce& reduce) {
  const char* op = "binary_crossentropy";
  check_smoothing(options.label_smoothing, op);
  require_same_shape(y_true, y_pred, op);
  const float s = options.label_smoothing;
  Variable elementwise;
  if (options.from_logits) {
    elementwise = pointwise_loss(op, y_true, y_pred, [s](float t, float x) {
      const float z = t * (1.0f - s) + 0.5f * s;
      return std::pair{std::max(x, 0.0f) - x * z + std::log1p(std::exp(-std::fabs(x))), stable_sigmoid(x) - z};
    });
  } else {
    elementwise = pointwise_loss(op, y_true, y_pred, [s](float t, float p) {
      const float z = t * (1.0f - s) + 0.5f * s;
      const float hi = 1.0f - kEpsilon;  // 1 - 2^-23 in float32, which Keras' float32 quirk relies on
      const float q = std::clamp(p, kEpsilon, hi);
      const float a = q + kEpsilon, b = 1.0f - q + kEpsilon;
      const float value = -(z * std::log(a) + (1.0f - z) * std::log(b));
      const float d = (p >= kEpsilon && p <= hi) ? -(z / a - (1.0f - z) / b) : 0.0f;
      return std::pair{value, d};
    });
  }
  return reduce_loss(mean_last_axis(elementwise), reduce, op);
}

Variable categorical_crossentropy(const Tensor& y_true, const Variable& y_pred, CrossEntropyOptions options,
                                  const Reduce& reduce) {
  const char* op = "categorical_crossentropy";
  require_rank2(y_pred, op);
  require_same_shape(y_true, y_pred, op);
  check_smoothing(options.label_smoothing, op);
  Tensor smoothed = y_true;
  if (options.label_smoothing > 0.0f)
    smoothed = add(mul(y_true, 1.0f - options.label_smoothing), options.label_smoothing / static_cast<float>(y_true.dim(1)));
  const Variable target(smoothed);
  Variable log_p;
  if (options.from_logits) {
    log_p = log_softmax(y_pred, 1);
  } else {
    const Variable p = div(y_pred, sum(y_pred, {1}, true));
    log_p = log(clip(p, kEpsilon, 1.0f - kEpsilon));
  }
  return reduce_loss(neg(sum(mul(target, log_p), {1})), reduce, op);
}

Variable sparse_categorical_crossentropy(const Tensor& y_true, const Variable& y_pred, CrossEntropyOptions options,
                                         const Reduce& reduce) {
  const char* op = "sparse_categorical_crossentropy";
  require_rank2(y_pred, op);
  if (options.label_smoothing != 0.0f) fail(op, "label_smoothing is not supported (as in Keras); use one-hot targets");
  const auto ids = class_ids(y_true, y_pred.dim(0), y_pred.dim(1), op);
  // Keras, from probabilities: clip, log, then the logits path (its log-softmax renormalises the rows).
  const Variable logits = options.from_logits ? y_pred : log(clip(y_pred, kEpsilon, 1.0f - kEpsilon));
  return reduce_loss(sparse_crossentropy_from_logits(ids, logits), reduce, op);
}

Variable kl_divergence(const Tensor& y_true, const Variable& y_pred, const Reduce& reduce) {
  const char* op = "kl_divergence";
  return reduce_loss(sum_last_axis(pointwise_loss(op, y_true, y_pred, [](float t, float p) {
                       const float tc = std::clamp(t, kEpsilon, 1.0f), pc = std::clamp(p, kEpsilon, 1.0f);
                       const bool passes = p >= kEpsilon && p <= 1.0f;
                       return std::pair{tc * std::log(tc / pc), passes ? -tc / pc : 0.0f};
                     })),
                     reduce, op);
}

}  // namespace tapegrad::losses
