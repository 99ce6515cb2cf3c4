#include "autograd/conv_direct.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

#include "core/error.h"

#if defined(__AVX512F__)
#include <immintrin.h>
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

Plan::Plan(const ConvGeometry& geometry) : g(geometry) {
  for (int d = 0; d < 3; ++d) {
    padded[d] = g.out[d] + (g.kernel[d] - 1) * g.dilation[d];
    needs_padding = needs_padding || padded[d] != g.in[d] || g.pad_before[d] != 0;
  }
  plane = padded[1] * padded[2];
  rows_per_plane = (g.out[1] - 1) * padded[2] + g.out[2];
  for (int64_t kd = 0; kd < g.kernel[0]; ++kd)
    for (int64_t kh = 0; kh < g.kernel[1]; ++kh)
      for (int64_t kw = 0; kw < g.kernel[2]; ++kw)
        tap_offset.push_back((kd * g.dilation[0] * plane + kh * g.dilation[1] * padded[2] + kw * g.dilation[2]) * g.c_in);
  for (int64_t r = 0; r < rows_per_plane; ++r) {
    const int64_t oh = r / padded[2], ow = r % padded[2];
    row_position.push_back(ow < g.out[2] ? oh * g.out[2] + ow : -1);
  }
}

#if defined(__AVX512F__)

namespace {

// The sample's input inside a zero border, in a per-thread buffer (or x itself when the
// convolution has no padding).
const float* padded_input(const float* x, const Plan& plan) {
  if (!plan.needs_padding) return x;
  const ConvGeometry& g = plan.g;
  thread_local std::vector<float> buffer;
  const int64_t c = g.c_in, size = plan.padded[0] * plan.plane * c;
  if (buffer.size() < static_cast<size_t>(size)) buffer.resize(static_cast<size_t>(size));
  float* xp = buffer.data();
  std::fill(xp, xp + size, 0.0f);
  const int64_t run = g.in[2] * c;
  for (int64_t d = 0; d < g.in[0]; ++d)
    for (int64_t h = 0; h < g.in[1]; ++h) {
      const int64_t pd = d + g.pad_before[0], ph = h + g.pad_before[1];
      std::memcpy(xp + ((pd * plan.padded[1] + ph) * plan.padded[2] + g.pad_before[2]) * c,
                  x + (d * g.in[1] + h) * run, static_cast<size_t>(run) * sizeof(float));
    }
  return xp;
}

// One register tile: C rows i < MR, columns [0, 16 * NV) (the last vector under `last_mask`),
// += sum over taps p and steps s of A(p, i, s) * B(p, s, :), where
//   A(p, i, s) = a[tap_offset[p] + i * a_row + s * a_step]   (a_row is kRowStride when that is not 0)
//   B(p, s, :) = tap_b[p] + s * ldb.
struct Tile {
  const float* a;
  int64_t a_row, a_step;
  const int64_t* tap_offset;
  const float* const* tap_b;
  int64_t taps, steps, ldb;
  float* const* c_rows;  // nullptr rows are computed and dropped
  __mmask16 last_mask;
  bool accumulate;      // add onto what c holds
  const float* bias;    // per column, or nullptr
  bool relu;
};

template <int MR, int NV, int kRowStride>
void run_tile(const Tile& t) {
  __m512 acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
  const int64_t a_row = kRowStride != 0 ? kRowStride : t.a_row;
  for (int64_t p = 0; p < t.taps; ++p) {
    const float* a = t.a + t.tap_offset[p];
    const float* b = t.tap_b[p];
    for (int64_t s = 0; s < t.steps; ++s, a += t.a_step, b += t.ldb) {
      __m512 bv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v)
        bv[v] = v + 1 < NV ? _mm512_loadu_ps(b + 16 * v) : _mm512_maskz_loadu_ps(t.last_mask, b + 16 * v);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) {
        const __m512 av = _mm512_set1_ps(a[i * a_row]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
      }
    }
  }
  const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    float* c = t.c_rows[i];
    if (!c) continue;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const __mmask16 m = v + 1 < NV ? __mmask16(0xFFFF) : t.last_mask;
      __m512 r = acc[i][v];
      if (t.accumulate) r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(m, c + 16 * v));
      if (t.bias) r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(m, t.bias + 16 * v));
      if (t.relu) r = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(r, zero, _CMP_GT_OQ), r);  // NaN -> 0, as elsewhere
      _mm512_mask_storeu_ps(c + 16 * v, m, r);
    }
  }
}

// Rows per tile for NV column vectors: as many accumulators as the 32 registers allow next to
// the NV B vectors and a broadcast.
constexpr int rows_for(int nv) { return nv == 1 ? 16 : nv == 2 ? 12 : nv == 3 ? 8 : 6; }
constexpr int kMaxVectors = 4;
// Cache blocking (L1d is 48 KiB here): the forward keeps this much of the kernel hot, the
// kernel gradient this many rows of the output gradient.
constexpr int64_t kKernelBytesInL1 = 16 * 1024;
constexpr int64_t kRowsPerBlock = 64;

using TileFn = void (*)(const Tile&);

template <int NV, int kRowStride, size_t... R>
constexpr std::array<TileFn, sizeof...(R)> tile_table(std::index_sequence<R...>) {
  return {&run_tile<static_cast<int>(R) + 1, NV, kRowStride>...};
}

// run_tile<rows, nv, kRowStride> for rows <= rows_for(nv).
template <int kRowStride>
TileFn tile_fn(int rows, int nv) {
  static const auto t1 = tile_table<1, kRowStride>(std::make_index_sequence<rows_for(1)>());
  static const auto t2 = tile_table<2, kRowStride>(std::make_index_sequence<rows_for(2)>());
  static const auto t3 = tile_table<3, kRowStride>(std::make_index_sequence<rows_for(3)>());
  static const auto t4 = tile_table<4, kRowStride>(std::make_index_sequence<rows_for(4)>());
  switch (nv) {
    case 1: return t1[rows - 1];
    case 2: return t2[rows - 1];
    case 3: return t3[rows - 1];
    default: return t4[rows - 1];
  }
}

// The column groups of an n-wide output: up to kMaxVectors vectors each, the last masked.
struct ColumnGroup {
  int64_t begin;
  int vectors;
  __mmask16 last_mask;
};
std::vector<ColumnGroup> column_groups(int64_t n) {
  std::vector<ColumnGroup> groups;
  const int64_t total = (n + 15) / 16;
  for (int64_t v = 0; v < total; v += kMaxVectors) {
    const int nv = static_cast<int>(std::min<int64_t>(kMaxVectors, total - v));
    const int64_t end = std::min<int64_t>(n, (v + nv) * 16);
    const int64_t tail = end - (v + nv - 1) * 16;  // 1..16 columns in the last vector
    groups.push_back({v * 16, nv, static_cast<__mmask16>((1u << tail) - 1u)});
  }
  return groups;
}

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

void forward_sample(const Plan& plan, const float* x, const float* w, const float* bias, bool relu, float* y) {
  const ConvGeometry& g = plan.g;
  const float* xp = padded_input(x, plan);
  const int64_t c = g.c_in, n = g.c_out, taps = g.kernel_positions();
  std::vector<const float*> tap_b(static_cast<size_t>(taps));
  for (const ColumnGroup& cols : column_groups(n)) {
    for (int64_t p = 0; p < taps; ++p) tap_b[static_cast<size_t>(p)] = w + p * c * n + cols.begin;
    const int mr = rows_for(cols.vectors);
    // Kernel positions are taken a few at a time, so their slice of w stays in L1 while every
    // row of the sample goes by; the partial sums wait in y.
    const int64_t group = std::clamp<int64_t>(kKernelBytesInL1 / (c * cols.vectors * 64), 1, taps);
    std::array<float*, 16> c_rows{};
    for (int64_t p0 = 0; p0 < taps; p0 += group) {
      const int64_t group_taps = std::min(group, taps - p0);
      const bool first = p0 == 0, last = p0 + group_taps == taps;
      for (int64_t od = 0; od < g.out[0]; ++od) {
        for (int64_t r0 = 0; r0 < plan.rows_per_plane; r0 += mr) {
          const int rows = static_cast<int>(std::min<int64_t>(mr, plan.rows_per_plane - r0));
          float* y_plane = y + (od * g.out[1] * g.out[2] * n) + cols.begin;
          for (int i = 0; i < rows; ++i) {
            const int64_t pos = plan.row_position[static_cast<size_t>(r0 + i)];
            c_rows[static_cast<size_t>(i)] = pos < 0 ? nullptr : y_plane + pos * n;
          }
          const Tile tile{xp + (od * plan.plane + r0) * c, c, 1, plan.tap_offset.data() + p0, tap_b.data() + p0, group_taps,
                          c, n, c_rows.data(), cols.last_mask, !first, last && bias ? bias + cols.begin : nullptr, last && relu};
          (c == 32 ? tile_fn<32>(rows, cols.vectors) : c == 64 ? tile_fn<64>(rows, cols.vectors) : tile_fn<0>(rows, cols.vectors))(tile);
        }
      }
    }
  }
}

void add_weight_gradient_sample(const Plan& plan, const float* x, const float* dy, float* dw) {
  const ConvGeometry& g = plan.g;
  const float* xp = padded_input(x, plan);
  const int64_t c = g.c_in, n = g.c_out, taps = g.kernel_positions(), rows = plan.rows_per_plane;
  // The output gradient laid out on the linear rows, zero on the rows that are not outputs.
  thread_local std::vector<float> linear_dy;
  if (linear_dy.size() < static_cast<size_t>(rows * n)) linear_dy.resize(static_cast<size_t>(rows * n));
  const std::vector<ColumnGroup> groups = column_groups(n);
  for (int64_t od = 0; od < g.out[0]; ++od) {
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t pos = plan.row_position[static_cast<size_t>(r)];
      float* dst = linear_dy.data() + r * n;
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
        const float* b = linear_dy.data() + s0 * n + cols.begin;
        const int mr = rows_for(cols.vectors);
        std::array<float*, 16> c_rows{};
        for (int64_t p = 0; p < taps; ++p)
          for (int64_t c0 = 0; c0 < c; c0 += mr) {
            const int tile_rows = static_cast<int>(std::min<int64_t>(mr, c - c0));
            for (int i = 0; i < tile_rows; ++i) c_rows[static_cast<size_t>(i)] = dw + (p * c + c0 + i) * n + cols.begin;
            const Tile tile{block_x + plan.tap_offset[static_cast<size_t>(p)] + c0, 1, c, &zero_offset, &b, 1, steps, n,
                            c_rows.data(), cols.last_mask, true, nullptr, false};
            tile_fn<1>(tile_rows, cols.vectors)(tile);
          }
      }
    }
  }
}

#else  // no AVX-512: conv_engine keeps to im2col + GEMM

bool supports(const ConvGeometry&) { return false; }
void forward_sample(const Plan&, const float*, const float*, const float*, bool, float*) {
  fail("conv", "the direct kernels need AVX-512");
}
void add_weight_gradient_sample(const Plan&, const float*, const float*, float*) {
  fail("conv", "the direct kernels need AVX-512");
}

#endif

}  // namespace tapegrad::conv_direct
