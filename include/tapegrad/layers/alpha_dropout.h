#pragma once
// AlphaDropout: dropout for self-normalizing (SELU) networks. Dropped elements are set to SELU's
// negative saturation value alpha' = -scale * alpha instead of 0, then an affine correction
// a * x + b keeps the mean and variance of the inputs (Klambauer et al. 2017, Keras' formula):
//   a = ((1 - rate) * (1 + rate * alpha'^2))^-1/2,  b = -a * alpha' * rate.
// Identity at inference. noise_shape as in Dropout.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tapegrad/core/rng.h"
#include "tapegrad/layers/dropout.h"

namespace tapegrad {

class AlphaDropout : public Layer {
 public:
  TAPEGRAD_LAYER(AlphaDropout)
  MaskSupport mask_support() const override { return MaskSupport::passes; }
  explicit AlphaDropout(float rate, DropoutOptions options = {});
  Shape output_shape(const Shape& input_shape) const override { return input_shape; }
  float rate() const { return rate_; }
  const std::vector<int64_t>& noise_shape() const { return noise_shape_; }
  std::optional<uint64_t> seed() const { return seed_; }
  Rng& rng() { return rng_; }

 protected:
  // For checkpoints (Layer::random_generators).
  std::vector<Rng*> own_generators() override { return {&rng_}; }
  Variable forward(const Variable& x, bool training) override;

 private:
  float rate_;
  std::vector<int64_t> noise_shape_;
  std::optional<uint64_t> seed_;
  Rng rng_;
};

}  // namespace tapegrad
