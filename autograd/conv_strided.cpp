#include "autograd/conv_strided.h"

#include <algorithm>
#include <array>
#include <vector>

#include "autograd/conv_direct.h"
#include "core/scratch.h"
#include "tapegrad/core/error.h"

#if defined(__AVX512F__)
#include "autograd/conv_tile_avx512.h"
#endif

namespace tapegrad::conv_strided {

namespace {

// The first and one past the last q of phase a along one dim: the input positions
// ih = stride * q + a - pad_before that lie in [0, in).
struct PhaseRange {
  int64_t lo, hi;
};
PhaseRange phase_range(int64_t a, int64_t stride, int64_t pad_before, int64_t in) {
  const int64_t lo = a >= pad_before ? 0 : (pad_before - a + stride - 1) / stride;
  const int64_t last = pad_before + in - 1 - a;  // the largest stride * q allowed
  return {lo, last < 0 ? lo : std::max(lo, last / stride + 1)};
}

}  // namespace

Plan::Plan(const ConvGeometry& geometry) : g(geometry) {
  for (int d = 0; d < 3; ++d) {
    padded[d] = std::max(g.pad_before[d] + g.in[d], (g.out[d] - 1) * g.stride[d] + g.kernel[d]);
    needs_frame = needs_frame || padded[d] != g.in[d] || g.pad_before[d] != 0;
    dy_before[d] = (g.kernel[d] - 1) / g.stride[d];
    dy_padded[d] = dy_before[d] + std::max(g.out[d], phase_range(0, g.stride[d], g.pad_before[d], g.in[d]).hi);
  }
  segment_steps = g.kernel[2] * g.c_in;
  for (int64_t kd = 0; kd < g.kernel[0]; ++kd)
    for (int64_t kh = 0; kh < g.kernel[1]; ++kh) segment_offset.push_back((kd * padded[1] + kh) * padded[2] * g.c_in);
}

void transpose_kernel(const float* w, const ConvGeometry& g, float* transposed) {
  const int64_t ci = g.c_in, co = g.c_out;
  for (int64_t p = 0; p < g.kernel_positions(); ++p)
    for (int64_t c = 0; c < ci; ++c)
      for (int64_t o = 0; o < co; ++o) transposed[(p * co + o) * ci + c] = w[(p * ci + c) * co + o];
}

#if defined(__AVX512F__)

using namespace conv_tile;

namespace {

// The forward keeps this much of the kernel in L1 (48 KiB here) while the rows go by.
constexpr int64_t kKernelBytesInL1 = 16 * 1024;

const float* framed(const float* x, const Plan& plan) {
  if (!plan.needs_frame) return x;
  thread_local ScratchBuffer buffer;
  return conv_direct::framed_input(x, plan.g, plan.padded, buffer);
}

// The float offset of output (od, oh, ow)'s window origin in the framed input.
int64_t window_origin(const Plan& plan, int64_t od, int64_t oh, int64_t ow) {
  const ConvGeometry& g = plan.g;
  return ((od * g.stride[0] * plan.padded[1] + oh * g.stride[1]) * plan.padded[2] + ow * g.stride[2]) * g.c_in;
}

}  // namespace

bool supports(const ConvGeometry& g) {
  bool strided = false;
  for (int d = 0; d < 3; ++d) {
    if (g.dilation[d] != 1 || g.pad_before[d] >= g.kernel[d]) return false;
    strided = strided || g.stride[d] > 1;
  }
  return strided;
}

void forward_sample(const Plan& plan, const float* x, const float* w, const float* bias, bool relu, float* y) {
  const ConvGeometry& g = plan.g;
  const float* xp = framed(x, plan);
  const int64_t n = g.c_out, steps = plan.segment_steps, row_step = g.stride[2] * g.c_in;
  const int64_t segments = static_cast<int64_t>(plan.segment_offset.size());
  std::vector<const float*> segment_b(static_cast<size_t>(segments));
  std::array<float*, 16> c_rows{};
  for (const ColumnGroup& cols : column_groups(n)) {
    for (int64_t p = 0; p < segments; ++p) segment_b[static_cast<size_t>(p)] = w + p * steps * n + cols.begin;
    const int mr = rows_for(cols.vectors);
    // A few segments at a time, so that their slice of w stays in L1 while every output row goes
    // by; the partial sums wait in y.
    const int64_t group = std::clamp<int64_t>(kKernelBytesInL1 / (steps * cols.vectors * 64), 1, segments);
    for (int64_t p0 = 0; p0 < segments; p0 += group) {
      const int64_t group_segments = std::min(group, segments - p0);
      const bool first = p0 == 0, last = p0 + group_segments == segments;
      for (int64_t od = 0; od < g.out[0]; ++od)
        for (int64_t oh = 0; oh < g.out[1]; ++oh) {
          float* y_row = y + ((od * g.out[1] + oh) * g.out[2]) * n + cols.begin;
          for (int64_t ow0 = 0; ow0 < g.out[2]; ow0 += mr) {
            const int rows = static_cast<int>(std::min<int64_t>(mr, g.out[2] - ow0));
            for (int i = 0; i < rows; ++i) c_rows[static_cast<size_t>(i)] = y_row + (ow0 + i) * n;
            const Tile tile{xp + window_origin(plan, od, oh, ow0), row_step, 1, plan.segment_offset.data() + p0,
                            segment_b.data() + p0, group_segments, steps, n, c_rows.data(), cols.last_mask, !first,
                            last && bias ? bias + cols.begin : nullptr, last && relu};
            run(tile, rows, cols.vectors);
          }
        }
    }
  }
}

void add_weight_gradient_sample(const Plan& plan, const float* x, const float* dy, float* dw) {
  const ConvGeometry& g = plan.g;
  const float* xp = framed(x, plan);
  const int64_t n = g.c_out, kernel_rows = plan.segment_steps, step = g.stride[2] * g.c_in;
  const std::vector<ColumnGroup> groups = column_groups(n);
  const int64_t zero_offset = 0;
  std::array<float*, 16> c_rows{};
  // One output row at a time: its windows and output gradient stay in L1 while every kernel
  // row and channel tile uses them; dw (a few tens of KiB) stays there throughout.
  for (int64_t od = 0; od < g.out[0]; ++od)
    for (int64_t oh = 0; oh < g.out[1]; ++oh) {
      const float* row_x = xp + window_origin(plan, od, oh, 0);
      const float* row_dy = dy + ((od * g.out[1] + oh) * g.out[2]) * n;
      for (const ColumnGroup& cols : groups) {
        const float* b = row_dy + cols.begin;
        const int mr = rows_for(cols.vectors);
        // Kernel-matrix row j of segment p is the float j from each window's segment origin.
        for (size_t p = 0; p < plan.segment_offset.size(); ++p)
          for (int64_t j0 = 0; j0 < kernel_rows; j0 += mr) {
            const int tile_rows = static_cast<int>(std::min<int64_t>(mr, kernel_rows - j0));
            float* dw_rows = dw + (static_cast<int64_t>(p) * kernel_rows + j0) * n + cols.begin;
            for (int i = 0; i < tile_rows; ++i) c_rows[static_cast<size_t>(i)] = dw_rows + i * n;
            const Tile tile{row_x + plan.segment_offset[p] + j0, 1, step, &zero_offset, &b, 1, g.out[2], n,
                            c_rows.data(), cols.last_mask, true, nullptr, false};
            run(tile, tile_rows, cols.vectors);
          }
      }
    }
}

void input_gradient_sample(const Plan& plan, const float* dy, const float* transposed_w, float* dx) {
  const ConvGeometry& g = plan.g;
  const int64_t ci = g.c_in, co = g.c_out;
  // The output gradient in its zero frame: a phase's taps reach back up to dy_before positions.
  ConvGeometry dy_geometry = g;
  dy_geometry.in = g.out;
  dy_geometry.c_in = co;
  dy_geometry.pad_before = plan.dy_before;
  thread_local ScratchBuffer dy_buffer;
  const float* dyf = conv_direct::framed_input(dy, dy_geometry, plan.dy_padded, dy_buffer);
  const std::array<int64_t, 3>& f = plan.dy_padded;
  const std::vector<ColumnGroup> groups = column_groups(ci);
  std::vector<int64_t> tap_offset;
  std::vector<const float*> tap_b;
  std::array<float*, 16> c_rows{};
  for (int64_t a0 = 0; a0 < g.stride[0]; ++a0)
    for (int64_t a1 = 0; a1 < g.stride[1]; ++a1)
      for (int64_t a2 = 0; a2 < g.stride[2]; ++a2) {
        const PhaseRange r0 = phase_range(a0, g.stride[0], g.pad_before[0], g.in[0]);
        const PhaseRange r1 = phase_range(a1, g.stride[1], g.pad_before[1], g.in[1]);
        const PhaseRange r2 = phase_range(a2, g.stride[2], g.pad_before[2], g.in[2]);
        for (const ColumnGroup& cols : groups) {
          // The phase's taps k = a + stride * m read the output gradient m positions back. A
          // phase with no taps (a window smaller than the stride) gets zeros.
          tap_offset.clear();
          tap_b.clear();
          for (int64_t m0 = 0, kd = a0; kd < g.kernel[0]; ++m0, kd += g.stride[0])
            for (int64_t m1 = 0, kh = a1; kh < g.kernel[1]; ++m1, kh += g.stride[1])
              for (int64_t m2 = 0, kw = a2; kw < g.kernel[2]; ++m2, kw += g.stride[2]) {
                tap_offset.push_back(-((m0 * f[1] + m1) * f[2] + m2) * co);
                tap_b.push_back(transposed_w + ((kd * g.kernel[1] + kh) * g.kernel[2] + kw) * co * ci + cols.begin);
              }
          const int mr = rows_for(cols.vectors);
          for (int64_t q0 = r0.lo; q0 < r0.hi; ++q0)
            for (int64_t q1 = r1.lo; q1 < r1.hi; ++q1) {
              const int64_t ih0 = g.stride[0] * q0 + a0 - g.pad_before[0], ih1 = g.stride[1] * q1 + a1 - g.pad_before[1];
              float* dx_row = dx + (ih0 * g.in[1] + ih1) * g.in[2] * ci + cols.begin;
              const float* dy_row = dyf + ((q0 + plan.dy_before[0]) * f[1] + q1 + plan.dy_before[1]) * f[2] * co;
              for (int64_t q2 = r2.lo; q2 < r2.hi; q2 += mr) {
                const int rows = static_cast<int>(std::min<int64_t>(mr, r2.hi - q2));
                for (int i = 0; i < rows; ++i)
                  c_rows[static_cast<size_t>(i)] = dx_row + (g.stride[2] * (q2 + i) + a2 - g.pad_before[2]) * ci;
                const Tile tile{dy_row + (q2 + plan.dy_before[2]) * co, co, 1, tap_offset.data(), tap_b.data(),
                                static_cast<int64_t>(tap_offset.size()), co, ci, c_rows.data(), cols.last_mask, false, nullptr, false};
                run(tile, rows, cols.vectors);
              }
            }
        }
      }
}

#else  // no AVX-512: conv_engine keeps to im2col + GEMM

bool supports(const ConvGeometry&) { return false; }
void forward_sample(const Plan&, const float*, const float*, const float*, bool, float*) {
  fail("conv", "the strided direct kernels need AVX-512");
}
void add_weight_gradient_sample(const Plan&, const float*, const float*, float*) {
  fail("conv", "the strided direct kernels need AVX-512");
}
void input_gradient_sample(const Plan&, const float*, const float*, float*) {
  fail("conv", "the strided direct kernels need AVX-512");
}

#endif

}  // namespace tapegrad::conv_strided
