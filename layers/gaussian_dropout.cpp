#include "tapegrad/layers/gaussian_dropout.h"

#include <cmath>
#include <string>

#include "tapegrad/autograd/nn_ops.h"
#include "tapegrad/core/error.h"
#include "layers/random_seed.h"

namespace tapegrad {

GaussianDropout::GaussianDropout(float rate, GaussianDropoutOptions options)
    : Layer("GaussianDropout", options.name), rate_(rate), seed_(options.seed), rng_(layer_seed(options.seed)) {
  if (!(rate >= 0.0f && rate < 1.0f)) fail(label(), "rate must be in [0, 1), got " + std::to_string(rate));
}

Variable GaussianDropout::forward(const Variable& x, bool training) {
  if (!training || rate_ == 0.0f) return x;
  const float stddev = std::sqrt(rate_ / (1.0f - rate_));
  return apply_mask(x, Tensor::randn(x.shape(), rng_, 1.0f, stddev));
}

}  // namespace tapegrad
