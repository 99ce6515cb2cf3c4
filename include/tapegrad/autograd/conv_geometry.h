#pragma once
// The geometry of a convolution or pooling window over 1, 2 or 3 spatial dims, in Keras'
// channels_last layout: x (batch, *spatial, channels), kernel (*window, c_in, c_out). Every
// shape is padded to 3 spatial dims with leading 1s, so one code path serves 1-D, 2-D and 3-D.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "tapegrad/core/shape.h"

namespace tapegrad {

// Keras' padding rules for one spatial dim:
//   valid:  out = floor((in - dilation*(k-1) - 1) / stride) + 1, no padding;
//   same:   out = ceil(in / stride), padded so the extra pixel goes to the bottom/right;
//   causal: (1-D) out = ceil(in / stride), all padding on the left.
int64_t conv_output_length(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, const std::string& padding);

// Keras' deconv_output_length: the output length of a transposed convolution. output_padding < 0
// means "not given" (Keras' None).
int64_t conv_transpose_output_length(int64_t in, int64_t kernel, int64_t stride, int64_t dilation,
                                     const std::string& padding, int64_t output_padding);

struct ConvGeometry {
  int spatial_rank = 0;  // 1, 2 or 3
  int64_t batch = 0, c_in = 0, c_out = 0;
  std::array<int64_t, 3> in{1, 1, 1}, out{1, 1, 1}, kernel{1, 1, 1};
  std::array<int64_t, 3> stride{1, 1, 1}, dilation{1, 1, 1}, pad_before{0, 0, 0};

  int64_t in_positions() const { return in[0] * in[1] * in[2]; }
  int64_t out_positions() const { return out[0] * out[1] * out[2]; }
  int64_t kernel_positions() const { return kernel[0] * kernel[1] * kernel[2]; }
  // Output shape (batch, *out, channels) at the true spatial rank.
  Shape output_shape(int64_t channels) const;
  Shape input_shape() const;
};

// Builds and validates a geometry. `spatial` are the input's spatial extents; strides and
// dilation have one entry per spatial dim. Throws naming `op` for a window larger than the
// padded input, non-positive sizes, or an unknown padding.
ConvGeometry make_conv_geometry(const std::string& op, int64_t batch, const std::vector<int64_t>& spatial, int64_t c_in,
                                const std::vector<int64_t>& kernel, int64_t c_out, const std::vector<int64_t>& strides,
                                const std::vector<int64_t>& dilation, const std::string& padding);

}  // namespace tapegrad
