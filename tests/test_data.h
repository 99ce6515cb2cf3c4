#pragma once
// Deterministic test data: make() without the library's own Rng (a small LCG, for the tests of
// that Rng and of core), normal()/uniform() from a seeded tapegrad::Rng, and row-major index
// arithmetic for naive reference loops.
#include <cmath>
#include <cstdint>
#include <vector>

#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor.h"

namespace tapegrad::testing {

// Values uniform in [lo, hi) from `seed`; rounded down to integers on request (exact sums).
inline Tensor make(const Shape& shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f, bool integers = false) {
  std::vector<float> v(static_cast<size_t>(shape.numel()));
  uint32_t x = seed * 2654435761u + 12345u;
  for (float& f : v) {
    x = x * 1664525u + 1013904223u;
    const float u = static_cast<float>(x >> 8) / 16777216.0f;
    f = lo + (hi - lo) * u;
    if (integers) f = std::floor(f);
  }
  return Tensor::from(shape, v);
}

inline Tensor normal(const Shape& shape, uint64_t seed) {
  Rng rng(seed);
  return Tensor::randn(shape, rng);
}

inline Tensor uniform(const Shape& shape, float lo, float hi, uint64_t seed) {
  Rng rng(seed);
  return Tensor::rand(shape, rng, lo, hi);
}

// Multi-index of the flat offset `flat` in a row-major `shape`.
inline std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
  std::vector<int64_t> idx(static_cast<size_t>(shape.rank()));
  for (int d = shape.rank() - 1; d >= 0; --d) {
    idx[static_cast<size_t>(d)] = flat % shape[d];
    flat /= shape[d];
  }
  return idx;
}

}  // namespace tapegrad::testing
