#pragma once
// The seed of a random layer (Dropout, SpatialDropout, GaussianNoise, ...): the one given, or a
// draw from default_rng() at construction, so manual_seed() makes a whole model's masks replay.
#include <cstdint>
#include <optional>

#include "tapegrad/core/rng.h"

namespace tapegrad {

inline uint64_t layer_seed(std::optional<uint64_t> seed) {
  if (seed) return *seed;
  const uint64_t hi = default_rng().next_u32(), lo = default_rng().next_u32();
  return (hi << 32) | lo;
}

}  // namespace tapegrad
