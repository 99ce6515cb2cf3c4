#pragma once
// Dropout: inverted dropout, as Keras. In training each element is zeroed with probability
// `rate` and the survivors are scaled by 1 / (1 - rate), so inference (training = false) is the
// identity. `noise_shape` (with the batch dim, -1 meaning "the input's extent", Keras' None)
// shares one draw along every dim where it is 1: {-1, 1, -1} drops whole time steps' features
// identically across the steps of (batch, steps, features).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tapegrad/core/rng.h"
#include "tapegrad/layers/layer.h"

namespace tapegrad {

struct DropoutOptions {
  std::vector<int64_t> noise_shape = {};  // empty: the input's shape
  std::optional<uint64_t> seed = std::nullopt;  // none: drawn from default_rng()
  std::string name = "";
};

class Dropout : public Layer {
 public:
  TAPEGRAD_LAYER(Dropout)
  MaskSupport mask_support() const override { return MaskSupport::passes; }
  explicit Dropout(float rate, DropoutOptions options = {});

  Shape output_shape(const Shape& input_shape) const override { return input_shape; }
  float rate() const { return rate_; }
  const DropoutOptions& options() const { return options_; }
  // The generator of the masks; its state is what a checkpoint saves to replay them.
  Rng& rng() { return rng_; }

 protected:
  // For checkpoints (Layer::random_generators).
  std::vector<Rng*> own_generators() override { return {&rng_}; }
  Variable forward(const Variable& x, bool training) override;

 private:
  float rate_;
  DropoutOptions options_;
  Rng rng_;

  Shape resolved_noise_shape(const Shape& input) const;
};

}  // namespace tapegrad
