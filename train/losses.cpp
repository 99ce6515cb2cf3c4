#include "train/losses.h"

#include <cmath>
#include <string>

#include "autograd/ops.h"
#include "autograd/tape.h"
#include "core/error.h"
#include "core/tensor_ops.h"

namespace tapegrad::losses {

namespace {

constexpr float kEpsilon = 1e-7f;  // Keras' backend epsilon

void require_rank2(const Variable& y_pred, const char* op) {
  if (y_pred.rank() != 2) fail(op, "y_pred " + y_pred.shape().str() + " must be (batch, classes)");
}

// Class ids as integers, validated against the number of classes.
std::vector<int64_t> class_ids(const Tensor& y_true, int64_t batch, int64_t classes, const char* op) {
  const bool shape_ok = (y_true.rank() == 1 && y_true.dim(0) == batch) ||
                        (y_true.rank() == 2 && y_true.dim(0) == batch && y_true.dim(1) == 1);
  if (!shape_ok)
    fail(op, "y_true " + y_true.shape().str() + " must be (" + std::to_string(batch) + ",) or (" + std::to_string(batch) +
                 ", 1) class ids for y_pred of " + std::to_string(batch) + " samples");
  std::vector<int64_t> ids(static_cast<size_t>(batch));
  for (int64_t i = 0; i < batch; ++i) {
    const float v = y_true.data()[i];
    if (!(v >= 0.0f) || v >= static_cast<float>(classes) || v != std::floor(v))
      fail(op, "label " + std::to_string(v) + " of sample " + std::to_string(i) + " is not a class id in [0, " +
                   std::to_string(classes) + ")");
    ids[static_cast<size_t>(i)] = static_cast<int64_t>(v);
  }
  return ids;
}

// -mean_i log_softmax(logits)[i, id_i], with its gradient (softmax - onehot) / batch.
Variable sparse_from_logits(const std::vector<int64_t>& ids, const Variable& logits) {
  const Tensor& z = logits.value();
  const int64_t batch = z.dim(0), classes = z.dim(1);
  Tensor lsm = sub(z, max(z, {1}, true));
  lsm = sub(lsm, log(sum(exp(lsm), {1}, true)));
  double total = 0.0;
  for (int64_t i = 0; i < batch; ++i) total -= lsm.data()[i * classes + ids[static_cast<size_t>(i)]];
  const float loss = batch > 0 ? static_cast<float>(total / static_cast<double>(batch)) : 0.0f;
  return record("sparse_categorical_crossentropy", Tensor::scalar(loss), {logits},
                [lsm, ids, batch, classes](const Tensor& g, GradSink& s) {
                  Tensor grad = exp(lsm);  // softmax
                  for (int64_t i = 0; i < batch; ++i) grad.data()[i * classes + ids[static_cast<size_t>(i)]] -= 1.0f;
                  s.set(0, mul(grad, g.item() / static_cast<float>(batch)));
                });
}

}  // namespace

Variable mean_squared_error(const Tensor& y_true, const Variable& y_pred) {
  if (y_true.shape() != y_pred.shape())
    fail("mean_squared_error", "y_true " + y_true.shape().str() + " and y_pred " + y_pred.shape().str() + " differ");
  const Variable diff = sub(y_pred, Variable(y_true));
  return mean(mul(diff, diff));
}

Variable categorical_crossentropy(const Tensor& y_true, const Variable& y_pred, CrossEntropyOptions options) {
  const char* op = "categorical_crossentropy";
  require_rank2(y_pred, op);
  if (y_true.shape() != y_pred.shape())
    fail(op, "y_true " + y_true.shape().str() + " and y_pred " + y_pred.shape().str() + " differ");
  if (!(options.label_smoothing >= 0.0f && options.label_smoothing <= 1.0f))
    fail(op, "label_smoothing must be in [0, 1], got " + std::to_string(options.label_smoothing));
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
  return neg(mean(sum(mul(target, log_p), {1})));
}

Variable sparse_categorical_crossentropy(const Tensor& y_true, const Variable& y_pred, CrossEntropyOptions options) {
  const char* op = "sparse_categorical_crossentropy";
  require_rank2(y_pred, op);
  if (options.label_smoothing != 0.0f) fail(op, "label_smoothing is not supported (as in Keras); use one-hot targets");
  const auto ids = class_ids(y_true, y_pred.dim(0), y_pred.dim(1), op);
  if (options.from_logits) return sparse_from_logits(ids, y_pred);
  // Keras: clip, log, then the logits path (its log-softmax renormalises the rows).
  return sparse_from_logits(ids, log(clip(y_pred, kEpsilon, 1.0f - kEpsilon)));
}

}  // namespace tapegrad::losses
