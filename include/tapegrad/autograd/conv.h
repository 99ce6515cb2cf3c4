#pragma once
// Differentiable convolutions over 1, 2 or 3 spatial dims, channels_last (Keras' layouts):
//   x (batch, *spatial, c_in)
//   conv:             w (*kernel, c_in, c_out)          -> (batch, *out, c_out)
//   conv_transpose:   w (*kernel, c_out, c_in)          -> (batch, *out, c_out), the input-gradient of conv
//   depthwise_conv:   w (*kernel, c_in, multiplier)     -> (batch, *out, c_in * multiplier)
//   locally_connected w (out_positions, kernel_positions * c_in, c_out), unshared weights, valid padding
// Bias and activation are separate ops, added by the layers.
#include <string>
#include <vector>

#include "tapegrad/autograd/conv_geometry.h"
#include "tapegrad/autograd/variable.h"

namespace tapegrad {

struct ConvParams {
  std::vector<int64_t> strides;   // one per spatial dim; empty = all 1
  std::vector<int64_t> dilation;  // one per spatial dim; empty = all 1
  std::string padding = "valid";  // "valid", "same", or "causal" (1-D only)
};

// The geometry of a convolution of inputs `x_shape` (with batch) with a window `kernel`.
ConvGeometry conv_geometry(const std::string& op, const Shape& x_shape, const std::vector<int64_t>& kernel, int64_t c_out,
                           const ConvParams& params);

// With a bias (c_out,) and relu fused into the convolution when given (the layers' common case):
// relu(conv(x, w) + bias) in one pass over the output.
Variable conv(const Variable& x, const Variable& w, const ConvParams& params = {}, const Variable& bias = {},
              bool relu = false);

// output_padding: one per spatial dim (each < its stride), or empty for Keras' None.
Variable conv_transpose(const Variable& x, const Variable& w, const ConvParams& params = {},
                        const std::vector<int64_t>& output_padding = {});

Variable depthwise_conv(const Variable& x, const Variable& w, const ConvParams& params = {});

Variable locally_connected(const Variable& x, const Variable& w, const std::vector<int64_t>& kernel,
                           const std::vector<int64_t>& strides = {});

}  // namespace tapegrad
