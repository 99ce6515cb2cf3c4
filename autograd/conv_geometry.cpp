#include "tapegrad/autograd/conv_geometry.h"

#include <algorithm>

#include "tapegrad/core/error.h"

namespace tapegrad {

int64_t conv_output_length(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, const std::string& padding) {
  const int64_t span = dilation * (kernel - 1) + 1;
  if (padding == "valid") return in >= span ? (in - span) / stride + 1 : 0;
  if (padding == "same" || padding == "causal") return (in + stride - 1) / stride;
  fail("conv", "unknown padding '" + padding + "'; known: valid, same, causal");
}

int64_t conv_transpose_output_length(int64_t in, int64_t kernel, int64_t stride, int64_t dilation,
                                     const std::string& padding, int64_t output_padding) {
  const int64_t span = dilation * (kernel - 1) + 1;
  if (padding != "valid" && padding != "same")
    fail("conv_transpose", "unknown padding '" + padding + "'; known: valid, same");
  if (output_padding < 0) {
    if (padding == "valid") return in * stride + std::max<int64_t>(span - stride, 0);
    return in * stride;
  }
  const int64_t pad = padding == "same" ? span / 2 : 0;
  return (in - 1) * stride + span - 2 * pad + output_padding;
}

Shape ConvGeometry::output_shape(int64_t channels) const {
  Shape s{batch};
  for (int i = 3 - spatial_rank; i < 3; ++i) s.push_back(out[i]);
  s.push_back(channels);
  return s;
}

Shape ConvGeometry::input_shape() const {
  Shape s{batch};
  for (int i = 3 - spatial_rank; i < 3; ++i) s.push_back(in[i]);
  s.push_back(c_in);
  return s;
}

ConvGeometry make_conv_geometry(const std::string& op, int64_t batch, const std::vector<int64_t>& spatial, int64_t c_in,
                                const std::vector<int64_t>& kernel, int64_t c_out, const std::vector<int64_t>& strides,
                                const std::vector<int64_t>& dilation, const std::string& padding) {
  const size_t r = spatial.size();
  if (r < 1 || r > 3) fail(op, "supports 1 to 3 spatial dims, got " + std::to_string(r));
  if (kernel.size() != r || strides.size() != r || dilation.size() != r)
    fail(op, "window " + extents_str(kernel) + ", strides " + extents_str(strides) + " and dilation " + extents_str(dilation) +
                 " must each have " + std::to_string(r) + " entries for " + std::to_string(r) + "-D inputs");
  if (padding != "valid" && padding != "same" && padding != "causal")
    fail(op, "unknown padding '" + padding + "'; known: valid, same" + std::string(r == 1 ? ", causal" : ""));
  if (padding == "causal" && r != 1) fail(op, "causal padding is only defined for 1-D inputs");
  for (size_t i = 0; i < r; ++i) {
    if (kernel[i] < 1 || strides[i] < 1 || dilation[i] < 1)
      fail(op, "window " + extents_str(kernel) + ", strides " + extents_str(strides) + " and dilation " + extents_str(dilation) +
                   " must be positive");
  }
  ConvGeometry g;
  g.spatial_rank = static_cast<int>(r);
  g.batch = batch;
  g.c_in = c_in;
  g.c_out = c_out;
  for (size_t i = 0; i < r; ++i) {
    const size_t d = 3 - r + i;
    g.in[d] = spatial[i];
    g.kernel[d] = kernel[i];
    g.stride[d] = strides[i];
    g.dilation[d] = dilation[i];
    const int64_t span = dilation[i] * (kernel[i] - 1) + 1;
    g.out[d] = conv_output_length(spatial[i], kernel[i], strides[i], dilation[i], padding);
    if (padding == "valid" && spatial[i] < span)
      fail(op, "the window " + extents_str(kernel) + " (dilation " + extents_str(dilation) + ") is larger than the input " +
                   extents_str(spatial) + " with 'valid' padding");
    const int64_t total = std::max<int64_t>((g.out[d] - 1) * strides[i] + span - spatial[i], 0);
    g.pad_before[d] = padding == "causal" ? dilation[i] * (kernel[i] - 1) : padding == "same" ? total / 2 : 0;
    if (g.out[d] < 1) fail(op, "input " + extents_str(spatial) + " gives an empty output");
  }
  return g;
}

}  // namespace tapegrad
