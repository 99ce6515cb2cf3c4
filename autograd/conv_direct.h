#pragma once
// Stride-1 convolutions computed straight from the (padded) input, with no im2col: an AVX-512
// register-tiled kernel walks the input's linear positions, so each kernel position is a
// constant offset and the GEMM's A operand is the input itself. Output positions that fall in
// the padding columns of that linear walk are computed and dropped (a few percent more
// arithmetic for no patch buffer). The input gradient of a stride-1 convolution is itself a
// stride-1 convolution of the output gradient with the flipped kernel, so it uses the same
// kernel; the kernel gradient uses it with the roles of rows and steps swapped.
// Per sample, single-threaded: conv_engine runs these on its TBB chunks.
#include <array>
#include <cstdint>
#include <vector>

#include "tapegrad/autograd/conv_geometry.h"
#include "core/scratch.h"

namespace tapegrad::conv_direct {

// True when this build has the kernels (AVX-512) and g has stride 1 in every dim.
bool supports(const ConvGeometry& g);

// A stride-1 convolution as a GEMM over the padded input's linear positions: output position
// (od, oh, ow) reads the window whose origin is padded position (od, oh, ow), so along one
// output plane consecutive rows are consecutive input pixels and kernel position p is the
// constant offset. Rows whose ow lands in [out[2], padded[2]) are not outputs.
// Without dilation along the width, the taps of one kernel row read one contiguous run of
// kernel[2] * c_in floats, matching the kernel's (kw, c_in) rows: each kernel row is then one
// segment of that many GEMM steps instead of kernel[2] segments of c_in.
// Built once per call and shared by every sample.
struct Plan {
  explicit Plan(const ConvGeometry& geometry);

  ConvGeometry g;
  std::array<int64_t, 3> padded{};
  int64_t plane = 0;           // padded positions per depth slice
  int64_t rows_per_plane = 0;  // linear rows that cover one output plane
  bool needs_padding = false;
  int64_t segment_steps = 0;            // rows of the kernel matrix ((kw,) c_in) per segment
  std::vector<int64_t> segment_offset;  // in floats; segment p uses kernel-matrix rows from p * segment_steps
  std::vector<int64_t> row_position;    // per linear row: its output position in plane 0, or -1
};

// One sample placed at g.pad_before inside a zero frame of `padded` extents (each at least
// pad_before + in), in `buffer`: the stride-1 kernels then read windows without bounds checks.
// Only the frame is zeroed.
const float* framed_input(const float* x, const ConvGeometry& g, const std::array<int64_t, 3>& padded, ScratchBuffer& buffer);

// y (out positions, c_out) = x * w for one sample, then + bias and relu when given; with
// accumulate, y += x * w (an input gradient added into one already summed).
void forward_sample(const Plan& plan, const float* x, const float* w, const float* bias, bool relu, float* y,
                    bool accumulate = false);

// The geometry and kernel whose forward is g's input gradient: output gradient in, input
// gradient out, kernel (*window reversed, c_out, c_in).
ConvGeometry input_gradient_geometry(const ConvGeometry& g);
void flip_kernel(const float* w, const ConvGeometry& g, float* flipped);

// dw (*window, c_in, c_out) += the kernel gradient of one sample.
void add_weight_gradient_sample(const Plan& plan, const float* x, const float* dy, float* dw);

}  // namespace tapegrad::conv_direct
