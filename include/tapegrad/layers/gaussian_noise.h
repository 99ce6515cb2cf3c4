#pragma once
// GaussianNoise: adds zero-mean normal noise of `stddev` in training (a regularizer against
// overfitting, Keras semantics); identity at inference.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tapegrad/core/rng.h"
#include "tapegrad/layers/layer.h"

namespace tapegrad {

struct GaussianNoiseOptions {
  std::optional<uint64_t> seed = std::nullopt;
  std::string name = "";
};

class GaussianNoise : public Layer {
 public:
  TAPEGRAD_LAYER(GaussianNoise)
  MaskSupport mask_support() const override { return MaskSupport::passes; }
  explicit GaussianNoise(float stddev, GaussianNoiseOptions options = {});
  Shape output_shape(const Shape& input_shape) const override { return input_shape; }
  float stddev() const { return stddev_; }
  std::optional<uint64_t> seed() const { return seed_; }
  Rng& rng() { return rng_; }

 protected:
  // For checkpoints (Layer::random_generators).
  std::vector<Rng*> own_generators() override { return {&rng_}; }
  Variable forward(const Variable& x, bool training) override;

 private:
  float stddev_;
  std::optional<uint64_t> seed_;
  Rng rng_;
};

}  // namespace tapegrad
