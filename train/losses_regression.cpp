#include <algorithm>
#include <cmath>

#include "tapegrad/autograd/ops.h"
#include "tapegrad/train/losses.h"
#include "train/loss_helpers.h"
#include "train/pointwise_loss_op.h"

namespace tapegrad::losses {

namespace {
float sign_of(float x) { return static_cast<float>((x > 0.0f) - (x < 0.0f)); }
}  // namespace

Variable mean_squared_error(const Tensor& y_true, const Variable& y_pred, const Reduce& reduce) {
  const char* op = "mean_squared_error";
  return reduce_loss(mean_last_axis(pointwise_loss(op, y_true, y_pred, [](float t, float p) {
                       const float e = p - t;
                       return std::pair{e * e, 2.0f * e};
                     })),
                     reduce, op);
}

Variable mean_absolute_error(const Tensor& y_true, const Variable& y_pred, const Reduce& reduce) {
  const char* op = "mean_absolute_error";
  return reduce_loss(mean_last_axis(pointwise_loss(op, y_true, y_pred, [](float t, float p) {
                       return std::pair{std::fabs(p - t), sign_of(p - t)};
                     })),
                     reduce, op);
}

Variable mean_absolute_percentage_error(const Tensor& y_true, const Variable& y_pred, const Reduce& reduce) {
  const char* op = "mean_absolute_percentage_error";
  return reduce_loss(mean_last_axis(pointwise_loss(op, y_true, y_pred, [](float t, float p) {
                       const float denominator = std::max(std::fabs(t), kEpsilon);
                       return std::pair{100.0f * (std::fabs(t - p) / denominator), 100.0f * sign_of(p - t) / denominator};
                     })),
                     reduce, op);
}

Variable mean_squared_logarithmic_error(const Tensor& y_true, const Variable& y_pred, const Reduce& reduce) {
  const char* op = "mean_squared_logarithmic_error";
  return reduce_loss(mean_last_axis(pointwise_loss(op, y_true, y_pred, [](float t, float p) {
                       const float lp = std::log(std::max(p, kEpsilon) + 1.0f), lt = std::log(std::max(t, kEpsilon) + 1.0f);
                       const float e = lp - lt;
                       // The clip passes the gradient where p >= 1e-7, as TensorFlow's clip_by_value.
                       return std::pair{e * e, p >= kEpsilon ? 2.0f * e / (p + 1.0f) : 0.0f};
                     })),
                     reduce, op);
}

Variable huber(const Tensor& y_true, const Variable& y_pred, float delta, const Reduce& reduce) {
  const char* op = "huber";
  if (!(delta > 0.0f) || !std::isfinite(delta)) fail(op, "delta must be finite and > 0, got " + std::to_string(delta));
  return reduce_loss(mean_last_axis(pointwise_loss(op, y_true, y_pred, [delta](float t, float p) {
                       const float e = p - t, a = std::fabs(e);
                       if (a <= delta) return std::pair{0.5f * e * e, e};
                       return std::pair{delta * a - 0.5f * delta * delta, delta * sign_of(e)};
                     })),
                     reduce, op);
}

Variable log_cosh(const Tensor& y_true, const Variable& y_pred, const Reduce& reduce) {
  const char* op = "log_cosh";
  return reduce_loss(mean_last_axis(pointwise_loss(op, y_true, y_pred, [](float t, float p) {
                       const float x = p - t, z = -2.0f * x;
                       const float softplus = std::max(z, 0.0f) + std::log1p(std::exp(-std::fabs(z)));
                       return std::pair{x + softplus - std::log(2.0f), std::tanh(x)};
                     })),
                     reduce, op);
}

Variable poisson(const Tensor& y_true, const Variable& y_pred, const Reduce& reduce) {
  const char* op = "poisson";
  return reduce_loss(mean_last_axis(pointwise_loss(op, y_true, y_pred, [](float t, float p) {
                       return std::pair{p - t * std::log(p + kEpsilon), 1.0f - t / (p + kEpsilon)};
                     })),
                     reduce, op);
}

}  // namespace tapegrad::losses
