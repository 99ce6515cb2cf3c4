#include "tapegrad/layers/gaussian_noise.h"

#include <string>

#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/error.h"
#include "layers/random_seed.h"

namespace tapegrad {

GaussianNoise::GaussianNoise(float stddev, GaussianNoiseOptions options)
    : Layer("GaussianNoise", options.name), stddev_(stddev), seed_(options.seed), rng_(layer_seed(options.seed)) {
  if (!(stddev >= 0.0f)) fail(label(), "stddev must be >= 0, got " + std::to_string(stddev));
}

Variable GaussianNoise::forward(const Variable& x, bool training) {
  if (!training || stddev_ == 0.0f) return x;
  return add(x, Variable(Tensor::randn(x.shape(), rng_, 0.0f, stddev_)));
}

}  // namespace tapegrad
