#include "autograd/conv_direct.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

#include "tapegrad/core/error.h"
#include "core/scratch.h"

#if defined(__AVX512F__)
#include "autograd/conv_tile_avx512.h"
#endif

namespace tapegrad::conv_direct {

ConvGeometry input_gradient_geometry(const ConvGeometry& g) {
  ConvGeometry t = g;
  t.in = g.out;
  t.out = g.in;
  t.c_in = g.c_out;
  t.c_out = g.c_in;
  for (int d = 0; d < 3; ++d) t.pad_before[d] = (g.kernel[d] - 1) * g.dilation[d] - g.pad_before[d];
  return t;
}

void flip_kernel(const float* w, const ConvGeometry& g, float* flipped) {
  const int64_t taps = g.kernel_positions(), ci = g.c_in, co = g.c_out;
  for (int64_t p = 0; p < taps; ++p) {
    const float* src = w + (taps - 1 - p) * ci * co;
    float* dst = flipped + p * co * ci;
    for (int64_t c = 0; c < ci; ++c)
      for (int64_t o = 0; o < co; ++o) dst[o * ci + c] = src[c * co + o];
  }
}

const float* framed_input(const float* x, const ConvGeometry& g, const std::array<int64_t, 3>& padded, ScratchBuffer& buffer) {
  const int64_t c = g.c_in, row = padded[2] * c, run = g.in[2] * c;
  float* xp = buffer.get(static_cast<size_t>(padded[0] * padded[1] * row));
  for (int64_t pd = 0; pd < padded[0]; ++pd)
    for (int64_t ph = 0; ph < padded[1]; ++ph) {
      float* dst = xp + (pd * padded[1] + ph) * row;
      const int64_t d = pd - g.pad_before[0], h = ph - g.pad_before[1];
      if (d < 0 || d >= g.in[0] || h < 0 || h >= g.in[1]) {  // a row of the frame
        std::fill(dst, dst + row, 0.0f);
        continue;
      }
      const int64_t left = g.pad_before[2] * c;
      std::fill(dst, dst + left, 0.0f);
      std::memcpy(dst + left, x + (d * g.in[1] + h) * run, static_cast<size_t>(run) * sizeof(float));
      std::fill(dst + left + run, dst + row, 0.0f);
    }
  return xp;
}

Plan::Plan(const ConvGeometry& geometry) : g(geometry) {
  for (int d = 0; d < 3; ++d) {
    padded[d] = g.out[d] + (g.kernel[d] - 1) * g.dilation[d];
    needs_padding = needs_padding || padded[d] != g.in[d] || g.pad_before[d] != 0;
  }
  plane = padded[1] * padded[2];
  rows_per_plane = (g.out[1] - 1) * padded[2] + g.out[2];
  const bool whole_kernel_rows = g.dilation[2] == 1;
  segment_steps = whole_kernel_rows ? g.kernel[2] * g.c_in : g.c_in;
  for (int64_t kd = 0; kd < g.kernel[0]; ++kd)
    for (int64_t kh = 0; kh < g.kernel[1]; ++kh)
      for (int64_t kw = 0; kw < (whole_kernel_rows ? 1 : g.kernel[2]); ++kw)
        segment_offset.push_back((kd * g.dilation[0] * plane + kh * g.dilation[1] * padded[2] + kw * g.dilation[2]) * g.c_in);
  for (int64_t r = 0; r < rows_per_plane; ++r) {
    const int64_t oh = r / padded[2], ow = r % padded[2];
    row_position.push_back(ow < g.out[2] ? oh * g.out[2] + ow : -1);
  }
}

#if defined(__AVX512F__)

using namespace conv_tile;

namespace {

// The sample's input inside its zero frame (or x itself when the convolution has no padding).
const float* padded_input(const float* x, const Plan& plan) {
  if (!plan.needs_padding) return x;
  thread_local ScratchBuffer buffer;
  return framed_input(x, plan.g, plan.padded, buffer);
}

// Cache blocking (L1d is 48 KiB here): the forward keeps this much of the kernel hot, the
// kernel gradient this many rows of the output gradient.
constexpr int64_t kKernelBytesInL1 = 16 * 1024;
constexpr int64_t kRowsPerBlock = 64;

}  // namespace

bool supports(const ConvGeometry& g) {
  for (int d = 0; d < 3; ++d) {
    if (g.stride[d] != 1) return false;
    // The padded extent must hold the input (it does for Keras' paddings at stride 1).
    if (g.out[d] + (g.kernel[d] - 1) * g.dilation[d] < g.in[d] + g.pad_before[d]) return false;
    if (g.pad_before[d] > (g.kernel[d] - 1) * g.dilation[d]) return false;
  }
  return true;
}

void forward_sample(const Plan& plan, const float* x, const float* w, const float* bias, bool relu, float* y, bool accumulate) {
  const ConvGeometry& g = plan.g;
  const float* xp = padded_input(x, plan);
  const int64_t c = g.c_in, n = g.c_out, steps = plan.segment_steps;
  const int64_t segments = static_cast<int64_t>(plan.segment_offset.size());
  std::vector<const float*> segment_b(static_cast<size_t>(segments));
  for (const ColumnGroup& cols : column_groups(n)) {
    for (int64_t p = 0; p < segments; ++p) segment_b[static_cast<size_t>(p)] = w + p * steps * n + cols.begin;
    const int mr = rows_for(cols.vectors);
    // Segments are taken a few at a time, so their slice of w stays in L1 while every row of
    // the sample goes by; the partial sums wait in y.
    const int64_t group = std::clamp<int64_t>(kKernelBytesInL1 / (steps * cols.vectors * 64), 1, segments);
    std::array<float*, 16> c_rows{};
    for (int64_t p0 = 0; p0 < segments; p0 += group) {
      const int64_t group_segments = std::min(group, segments - p0);
      const bool first = p0 == 0, last = p0 + group_segments == segments;
      for (int64_t od = 0; od < g.out[0]; ++od) {
        for (int64_t r0 = 0; r0 < plan.rows_per_plane; r0 += mr) {
          const int rows = static_cast<int>(std::min<int64_t>(mr, plan.rows_per_plane - r0));
          float* y_plane = y + (od * g.out[1] * g.out[2] * n) + cols.begin;
          for (int i = 0; i < rows; ++i) {
            const int64_t pos = plan.row_position[static_cast<size_t>(r0 + i)];
            c_rows[static_cast<size_t>(i)] = pos < 0 ? nullptr : y_plane + pos * n;
          }
          const Tile tile{xp + (od * plan.plane + r0) * c, c, 1, plan.segment_offset.data() + p0, segment_b.data() + p0,
                          group_segments, steps, n, c_rows.data(), cols.last_mask, !first || accumulate, last && bias ? bias + cols.begin : nullptr, last && relu};
          run(tile, rows, cols.vectors);
        }
      }
    }
  }
}

void add_weight_gradient_sample(const Plan& plan, const float* x, const float* dy, float* dw) {
  const ConvGeometry& g = plan.g;
  const float* xp = padded_input(x, plan);
  const int64_t c = g.c_in, n = g.c_out, rows = plan.rows_per_plane, kernel_rows = plan.segment_steps;
  // The output gradient laid out on the linear rows, zero on the rows that are not outputs.
  thread_local ScratchBuffer linear_dy_buffer;
  float* linear_dy = linear_dy_buffer.get(static_cast<size_t>(rows * n));
  const std::vector<ColumnGroup> groups = column_groups(n);
  for (int64_t od = 0; od < g.out[0]; ++od) {
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t pos = plan.row_position[static_cast<size_t>(r)];
      float* dst = linear_dy + r * n;
      if (pos < 0)
        std::fill(dst, dst + n, 0.0f);
      else
        std::memcpy(dst, dy + (od * g.out[1] * g.out[2] + pos) * n, static_cast<size_t>(n) * sizeof(float));
    }
    const int64_t zero_offset = 0;
    // A block of rows at a time, so its output gradient and input rows stay in L1 while every
    // kernel position and channel tile uses them.
    for (int64_t s0 = 0; s0 < rows; s0 += kRowsPerBlock) {
      const int64_t steps = std::min(kRowsPerBlock, rows - s0);
      const float* block_x = xp + (od * plan.plane + s0) * c;
      for (const ColumnGroup& cols : groups) {
        const float* b = linear_dy + s0 * n + cols.begin;
        const int mr = rows_for(cols.vectors);
        std::array<float*, 16> c_rows{};
        // Kernel row j of segment p is x's float j from the segment's offset: tiles of rows.
        for (size_t p = 0; p < plan.segment_offset.size(); ++p)
          for (int64_t j0 = 0; j0 < kernel_rows; j0 += mr) {
            const int tile_rows = static_cast<int>(std::min<int64_t>(mr, kernel_rows - j0));
            float* dw_rows = dw + (static_cast<int64_t>(p) * kernel_rows + j0) * n + cols.begin;
            for (int i = 0; i < tile_rows; ++i) c_rows[static_cast<size_t>(i)] = dw_rows + i * n;
            const Tile tile{block_x + plan.segment_offset[p] + j0, 1, c, &zero_offset, &b, 1, steps, n,
                            c_rows.data(), cols.last_mask, true, nullptr, false};
            run(tile, tile_rows, cols.vectors);
          }
      }
    }
  }
}

#else  // no AVX-512: conv_engine keeps to im2col + GEMM

bool supports(const ConvGeometry&) { return false; }
void forward_sample(const Plan&, const float*, const float*, const float*, bool, float*, bool) {
  fail("conv", "the direct kernels need AVX-512");
}
void add_weight_gradient_sample(const Plan&, const float*, const float*, float*) {
  fail("conv", "the direct kernels need AVX-512");
}

#endif

}  // namespace tapegrad::conv_direct
