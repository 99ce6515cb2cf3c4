#pragma once
// Internal (not installed): the AVX-512 register tile that the direct and Winograd convolutions
// run their GEMMs on. Include only from .cpp files compiled with AVX-512.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>
#include <vector>

namespace tapegrad::conv_tile {

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

using TileFn = void (*)(const Tile&);

template <int NV, int kRowStride, size_t... R>
constexpr std::array<TileFn, sizeof...(R)> tile_table(std::index_sequence<R...>) {
  return {&run_tile<static_cast<int>(R) + 1, NV, kRowStride>...};
}

// run_tile<rows, nv, kRowStride> for rows <= rows_for(nv).
template <int kRowStride>
inline TileFn tile_fn(int rows, int nv) {
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

// Runs the tile through the instantiation for its shape. Row strides of 1, 16, 32 and 64
// floats are compile-time constants there: the broadcasts then address their rows by constant
// offsets, with no address arithmetic competing with the FMAs for their ports.
inline void run(const Tile& t, int rows, int nv) {
  const TileFn f = t.a_row == 1    ? tile_fn<1>(rows, nv)
                   : t.a_row == 16 ? tile_fn<16>(rows, nv)
                   : t.a_row == 32 ? tile_fn<32>(rows, nv)
                   : t.a_row == 64 ? tile_fn<64>(rows, nv)
                                   : tile_fn<0>(rows, nv);
  f(t);
}

// The column groups of an n-wide output: up to kMaxVectors vectors each, the last masked.
struct ColumnGroup {
  int64_t begin;
  int vectors;
  __mmask16 last_mask;
};
inline std::vector<ColumnGroup> column_groups(int64_t n) {
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

}  // namespace tapegrad::conv_tile
