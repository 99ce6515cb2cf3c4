#pragma once
// Two interleaved spirals: a small 2-D problem that no linear model separates.
#include <cstdint>

#include "tapegrad/core/tensor.h"

namespace tapegrad::data {

struct Points {
  Tensor x;  // (n, 2)
  Tensor y;  // (n,) class ids 0 and 1
};

// `per_class` points per spiral over `turns` turns, with Gaussian noise of `noise`, from `seed`.
Points two_spirals(int64_t per_class, uint64_t seed, float noise = 0.05f, float turns = 1.5f);

}  // namespace tapegrad::data
