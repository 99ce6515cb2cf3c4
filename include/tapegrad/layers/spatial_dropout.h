#pragma once
// SpatialDropout1D / 2D / 3D: dropout of whole feature maps. One draw per sample and channel,
// broadcast over the steps / rows and cols / depth, rows and cols; kept channels are scaled by
// 1 / (1 - rate); identity at inference. data_format "channels_last" (default, as Keras'
// image_data_format) puts the channels last, "channels_first" right after the batch dim.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tapegrad/core/rng.h"
#include "tapegrad/layers/layer.h"

namespace tapegrad {

struct SpatialDropoutOptions {
  std::string data_format = "channels_last";
  std::optional<uint64_t> seed = std::nullopt;  // none: drawn from default_rng()
  std::string name = "";
};

class SpatialDropout : public Layer {
 public:
  MaskSupport mask_support() const override { return MaskSupport::passes; }
  Shape output_shape(const Shape& input_shape) const override;
  float rate() const { return rate_; }
  bool channels_first() const { return channels_first_; }
  std::optional<uint64_t> seed() const { return seed_; }
  Rng& rng() { return rng_; }

 protected:
  // For checkpoints (Layer::random_generators).
  std::vector<Rng*> own_generators() override { return {&rng_}; }
  // spatial_dims: 1, 2 or 3.
  SpatialDropout(std::string type, int spatial_dims, float rate, SpatialDropoutOptions options);
  Variable forward(const Variable& x, bool training) override;

 private:
  int spatial_dims_;
  float rate_;
  bool channels_first_;
  std::optional<uint64_t> seed_;
  Rng rng_;
};

class SpatialDropout1D : public SpatialDropout {
 public:
  TAPEGRAD_LAYER(SpatialDropout1D)
  explicit SpatialDropout1D(float rate, SpatialDropoutOptions options = {})
      : SpatialDropout("SpatialDropout1D", 1, rate, std::move(options)) {}
};

class SpatialDropout2D : public SpatialDropout {
 public:
  TAPEGRAD_LAYER(SpatialDropout2D)
  explicit SpatialDropout2D(float rate, SpatialDropoutOptions options = {})
      : SpatialDropout("SpatialDropout2D", 2, rate, std::move(options)) {}
};

class SpatialDropout3D : public SpatialDropout {
 public:
  TAPEGRAD_LAYER(SpatialDropout3D)
  explicit SpatialDropout3D(float rate, SpatialDropoutOptions options = {})
      : SpatialDropout("SpatialDropout3D", 3, rate, std::move(options)) {}
};

}  // namespace tapegrad
