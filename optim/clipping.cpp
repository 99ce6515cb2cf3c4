#include "tapegrad/optim/clipping.h"

#include "optim/eigen.h"
#include <algorithm>
#include <cmath>

#include "tapegrad/core/tensor_ops.h"

namespace tapegrad {

namespace {
Eigen::Map<Eigen::ArrayXf> array_of(Tensor& t) { return {t.data(), t.numel()}; }
}  // namespace

void clip_by_norm_(Tensor& grad, float clipnorm) {
  const double norm = std::sqrt(squared_norm(grad));
  const double c = clipnorm;
  const float scale = static_cast<float>(c / std::max(norm, c));
  if (scale != 1.0f) array_of(grad) *= scale;
}

void clip_by_value_(Tensor& grad, float clipvalue) {
  array_of(grad) = array_of(grad).min(clipvalue).max(-clipvalue);
}

double global_norm(const std::vector<Tensor*>& grads) {
  double total = 0.0;
  for (const Tensor* g : grads) total += squared_norm(*g);
  return std::sqrt(total);
}

void clip_by_global_norm_(const std::vector<Tensor*>& grads, float clipnorm) {
  const double c = clipnorm, n = global_norm(grads);
  // TensorFlow's form: c * min(1/N, 1/c); N = 0 gives 1/N = inf and a scale of 1.
  const float scale = static_cast<float>(c * std::min(1.0 / n, 1.0 / c));
  if (scale == 1.0f) return;
  for (Tensor* g : grads) array_of(*g) *= scale;
}

}  // namespace tapegrad
