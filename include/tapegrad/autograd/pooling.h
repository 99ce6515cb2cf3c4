#pragma once
// Differentiable pooling and spatial resampling over 1, 2 or 3 spatial dims, channels_last:
// x (batch, *spatial, channels).
#include <string>
#include <utility>
#include <vector>

#include "tapegrad/autograd/variable.h"

namespace tapegrad {

// Window max / mean. Padding "valid" or "same" (Keras' rule; padded cells never win a max and
// are not counted in a mean, as in TensorFlow). Empty strides = the pool size (Keras' default).
Variable max_pool(const Variable& x, const std::vector<int64_t>& pool, const std::vector<int64_t>& strides = {},
                  const std::string& padding = "valid");
Variable avg_pool(const Variable& x, const std::vector<int64_t>& pool, const std::vector<int64_t>& strides = {},
                  const std::string& padding = "valid");

// Max / mean over every spatial dim: (batch, channels), or (batch, 1.., channels) with keepdims.
Variable global_max_pool(const Variable& x, bool keepdims = false);
Variable global_avg_pool(const Variable& x, bool keepdims = false);

// Zeros added before and after each spatial dim: pads[i] = {before, after}.
Variable zero_pad(const Variable& x, const std::vector<std::pair<int64_t, int64_t>>& pads);
// Nearest-neighbour upsampling: each spatial dim repeated factors[i] times.
Variable upsample(const Variable& x, const std::vector<int64_t>& factors);

}  // namespace tapegrad
