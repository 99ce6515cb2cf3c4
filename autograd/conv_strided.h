#pragma once
// Strided convolutions (the ResNet/MobileNet downsampling: 3x3 and 1x1 at stride 2) computed
// from the input as it lies, with no im2col, on the AVX-512 register tile:
// - forward: one output row at a time, the tile's rows are consecutive outputs, whose windows
//   start stride * c_in floats apart in the input; a kernel row (kw, c_in) is one contiguous run
//   of input, so it is one segment of GEMM steps.
// - kernel gradient: the same windows with the roles swapped (kernel-matrix rows are the tile's
//   rows, the output positions of one output row its steps).
// - input gradient: split into the stride's phases. The input positions whose padded index is
//   a (mod stride) in each dim receive only the kernel taps a, a + stride, ...; for one phase that
//   is a stride-1 convolution of the output gradient with those taps, written to every
//   stride-th input position. Phases cover the input exactly once, so nothing is accumulated and
//   no scatter is needed.
// Per sample, single-threaded: conv_engine runs these on its TBB chunks.
#include <array>
#include <cstdint>
#include <vector>

#include "tapegrad/autograd/conv_geometry.h"

namespace tapegrad::conv_strided {

// True when this build has the kernels (AVX-512) and g has a stride above 1 in some dim, no
// dilation, and padding before the input smaller than the window (as Keras' paddings give).
bool supports(const ConvGeometry& g);

// What every sample of one geometry shares, built once per call.
struct Plan {
  explicit Plan(const ConvGeometry& geometry);

  ConvGeometry g;
  // The input inside a zero frame that holds every window (or the input itself, when no window
  // leaves it): extents, and whether a frame is needed.
  std::array<int64_t, 3> padded{};
  bool needs_frame = false;
  // Per kernel row (kd, kh): floats from a window's origin in the framed input; each row is
  // kernel[2] * c_in GEMM steps.
  std::vector<int64_t> segment_offset;
  int64_t segment_steps = 0;
  // The output gradient inside a zero frame of `dy_before` positions before (the most taps a
  // phase reaches back) and enough after that every phase's rows stay inside.
  std::array<int64_t, 3> dy_before{}, dy_padded{};
};

// y (out positions, c_out) = x * w for one sample, then + bias and relu when given.
void forward_sample(const Plan& plan, const float* x, const float* w, const float* bias, bool relu, float* y);

// dw (*window, c_in, c_out) += the kernel gradient of one sample.
void add_weight_gradient_sample(const Plan& plan, const float* x, const float* dy, float* dw);

// The kernel with each tap's matrix transposed: (*window, c_out, c_in), for the input gradient.
void transpose_kernel(const float* w, const ConvGeometry& g, float* transposed);

// dx (in positions, c_in) = the input gradient of one sample (every position written).
void input_gradient_sample(const Plan& plan, const float* dy, const float* transposed_w, float* dx);

}  // namespace tapegrad::conv_strided
