#include "tapegrad/layers/alpha_dropout.h"

#include <cmath>
#include <string>

#include "tapegrad/autograd/nn_ops.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/tensor_ops.h"
#include "layers/random_seed.h"

namespace tapegrad {

AlphaDropout::AlphaDropout(float rate, DropoutOptions options)
    : Layer("AlphaDropout", options.name),
      rate_(rate),
      noise_shape_(std::move(options.noise_shape)),
      seed_(options.seed),
      rng_(layer_seed(options.seed)) {
  if (!(rate >= 0.0f && rate < 1.0f)) fail(label(), "rate must be in [0, 1), got " + std::to_string(rate));
}

Variable AlphaDropout::forward(const Variable& x, bool training) {
  if (!training || rate_ == 0.0f) return x;
  Shape noise = x.shape();
  if (!noise_shape_.empty()) {
    if (static_cast<int>(noise_shape_.size()) != x.rank())
      fail(label(), "noise_shape has " + std::to_string(noise_shape_.size()) + " dims, the input " + x.shape().str() +
                        " has " + std::to_string(x.rank()));
    for (int i = 0; i < x.rank(); ++i) {
      if (noise_shape_[i] < 0) continue;
      if (noise_shape_[i] != 1 && noise_shape_[i] != x.dim(i))
        fail(label(), "noise_shape dim " + std::to_string(i) + " is " + std::to_string(noise_shape_[i]) +
                          ", expected 1, None (-1) or " + std::to_string(x.dim(i)) + " for input " + x.shape().str());
      noise[i] = noise_shape_[i];
    }
  }
  const double alpha_p = -static_cast<double>(kSeluAlpha) * kSeluScale;
  const double q = 1.0 - rate_;
  const float a = static_cast<float>(1.0 / std::sqrt(q * (1.0 + rate_ * alpha_p * alpha_p)));
  const float b = static_cast<float>(-a * alpha_p * rate_);
  // kept: 1 / q where kept, else 0 (dropout_mask's values), turned into 0/1.
  const Tensor kept = greater(dropout_mask(noise, rate_, rng_), Tensor::scalar(0.0f));
  // y = a * (x * kept + alpha' * (1 - kept)) + b = x * (a kept) + (a alpha' (1 - kept) + b)
  const Tensor slope = mul(kept, a);
  const Tensor offset = add(mul(kept, static_cast<float>(-a * alpha_p)), static_cast<float>(a * alpha_p + b));
  return add(apply_mask(x, slope), Variable(offset));
}

}  // namespace tapegrad
