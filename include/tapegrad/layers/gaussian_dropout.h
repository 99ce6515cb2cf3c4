#pragma once
// GaussianDropout: multiplies by normal noise of mean 1 and stddev sqrt(rate / (1 - rate)) in
// training (Srivastava et al. 2014, Keras semantics); identity at inference.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tapegrad/core/rng.h"
#include "tapegrad/layers/layer.h"

namespace tapegrad {

struct GaussianDropoutOptions {
  std::optional<uint64_t> seed = std::nullopt;
  std::string name = "";
};

class GaussianDropout : public Layer {
 public:
  TAPEGRAD_LAYER(GaussianDropout)
  MaskSupport mask_support() const override { return MaskSupport::passes; }
  explicit GaussianDropout(float rate, GaussianDropoutOptions options = {});
  Shape output_shape(const Shape& input_shape) const override { return input_shape; }
  float rate() const { return rate_; }
  std::optional<uint64_t> seed() const { return seed_; }
  Rng& rng() { return rng_; }

 protected:
  // For checkpoints (Layer::random_generators).
  std::vector<Rng*> own_generators() override { return {&rng_}; }
  Variable forward(const Variable& x, bool training) override;

 private:
  float rate_;
  std::optional<uint64_t> seed_;
  Rng rng_;
};

}  // namespace tapegrad
