#include "autograd/conv_winograd.h"

#include <algorithm>

#include "tapegrad/core/error.h"
#include "tapegrad/core/parallel.h"
#include "core/scratch.h"

#if defined(__AVX512F__)
#include "autograd/conv_tile_avx512.h"
#endif

namespace tapegrad::conv_winograd {

namespace {

// A coefficient matrix known at compile time.
template <int R, int C>
struct Coefficients {
  float v[R][C];
};

template <int R, int C>
constexpr Coefficients<C, R> transposed(const Coefficients<R, C>& m) {
  Coefficients<C, R> t{};
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) t.v[c][r] = m.v[r][c];
  return t;
}

// F(m x m, 3 x 3): m x m outputs from an a x a input tile, a = m + 2 (Lavin & Gray; the points
// 0, +-1 for m = 2 and 0, +-1, +-2 for m = 4, as wincnn generates them). Y = A^T [(G g G^T) .*
// (B^T d B)] A is the cross-correlation of d with g.
template <int M>
struct Transforms;

template <>
struct Transforms<2> {
  static constexpr int kA = 4;
  static constexpr Coefficients<4, 4> BT{{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}};
  static constexpr Coefficients<4, 3> G{{{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}}};
  static constexpr Coefficients<2, 4> AT{{{1, 1, 1, 0}, {0, 1, -1, -1}}};
};

template <>
struct Transforms<4> {
  static constexpr int kA = 6;
  static constexpr Coefficients<6, 6> BT{{{4, 0, -5, 0, 1, 0},
                                          {0, -4, -4, 1, 1, 0},
                                          {0, 4, -4, -1, 1, 0},
                                          {0, -2, -1, 2, 1, 0},
                                          {0, 2, -1, -2, 1, 0},
                                          {0, 4, 0, -5, 0, 1}}};
  static constexpr Coefficients<6, 3> G{{{1.0f / 4, 0, 0},
                                         {-1.0f / 6, -1.0f / 6, -1.0f / 6},
                                         {-1.0f / 6, 1.0f / 6, -1.0f / 6},
                                         {1.0f / 24, 1.0f / 12, 1.0f / 6},
                                         {1.0f / 24, -1.0f / 12, 1.0f / 6},
                                         {0, 0, 1}}};
  static constexpr Coefficients<4, 6> AT{{{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}}};
};

// The output tile: 4x4 where it needs fewer multiplies than 2x2 (36 products per 16 outputs
// against 16 per 4, less what overhanging tiles waste), else 2x2. The kernel gradient asks for a
// clearer margin: its larger transforms and shorter reductions cost more per multiply (measured:
// 13x13 outputs with 64 channels, 0.73 of the multiplies, ran 15% slower with 4x4).
// Depends only on the geometry.
enum class Pass { kForward, kKernelGradient };
int tile_size(const ConvGeometry& g, Pass pass) {
  auto products = [&](int64_t m) {
    return static_cast<double>(((g.out[1] + m - 1) / m) * ((g.out[2] + m - 1) / m) * (m + 2) * (m + 2));
  };
  const double margin = pass == Pass::kForward ? 1.0 : 0.7;
  return products(4) < margin * products(2) ? 4 : 2;
}

// The kernel transforms work on kBlock (c_in, c_out) pairs at once, the pair index innermost
// so that the double arithmetic vectorises; blocks are independent, so they run in parallel.
constexpr int64_t kBlock = 64;

// u = G g G^T per channel pair: (3, 3, plane) -> (a, a, plane), in double.
template <int M>
std::vector<float> transform_kernel_for(const float* w, const ConvGeometry& g) {
  using T = Transforms<M>;
  constexpr int A = T::kA;
  const int64_t plane = g.c_in * g.c_out;
  std::vector<float> u(static_cast<size_t>(A * A * plane));
  float* pu = u.data();
  parallel_for(0, plane, 16 * kBlock, [&](int64_t lo, int64_t hi) {
    for (int64_t k0 = lo; k0 < hi; k0 += kBlock) {
      const int64_t nb = std::min(kBlock, hi - k0);
      double t[A][3][kBlock];  // G g
      for (int a = 0; a < A; ++a)
        for (int q = 0; q < 3; ++q)
          for (int64_t j = 0; j < nb; ++j) {
            double sum = 0.0;
            for (int r = 0; r < 3; ++r) sum += static_cast<double>(T::G.v[a][r]) * w[(r * 3 + q) * plane + k0 + j];
            t[a][q][j] = sum;
          }
      for (int a = 0; a < A; ++a)
        for (int b = 0; b < A; ++b)
          for (int64_t j = 0; j < nb; ++j) {
            double sum = 0.0;
            for (int q = 0; q < 3; ++q) sum += static_cast<double>(T::G.v[b][q]) * t[a][q][j];
            pu[(a * A + b) * plane + k0 + j] = static_cast<float>(sum);
          }
    }
  });
  return u;
}

// dw = G^T m G per channel pair: (a, a, plane) -> (3, 3, plane), in double.
template <int M>
void kernel_from_transformed_for(const float* m, const ConvGeometry& g, float* dw) {
  using T = Transforms<M>;
  constexpr int A = T::kA;
  const int64_t plane = g.c_in * g.c_out;
  parallel_for(0, plane, 16 * kBlock, [&](int64_t lo, int64_t hi) {
    for (int64_t k0 = lo; k0 < hi; k0 += kBlock) {
      const int64_t nb = std::min(kBlock, hi - k0);
      double t[3][A][kBlock];  // G^T m
      for (int r = 0; r < 3; ++r)
        for (int b = 0; b < A; ++b)
          for (int64_t j = 0; j < nb; ++j) {
            double sum = 0.0;
            for (int a = 0; a < A; ++a) sum += static_cast<double>(T::G.v[a][r]) * m[(a * A + b) * plane + k0 + j];
            t[r][b][j] = sum;
          }
      for (int r = 0; r < 3; ++r)
        for (int q = 0; q < 3; ++q)
          for (int64_t j = 0; j < nb; ++j) {
            double sum = 0.0;
            for (int b = 0; b < A; ++b) sum += t[r][b][j] * static_cast<double>(T::G.v[b][q]);
            dw[(r * 3 + q) * plane + k0 + j] = static_cast<float>(sum);
          }
    }
  });
}

}  // namespace

std::vector<float> transform_kernel(const float* w, const ConvGeometry& g) {
  return tile_size(g, Pass::kForward) == 4 ? transform_kernel_for<4>(w, g) : transform_kernel_for<2>(w, g);
}

#if defined(__AVX512F__)

using namespace conv_tile;

namespace {

// out[r] = sum_k m[r][k] in[k], with m known at compile time: once the loops unroll, zero
// coefficients vanish and +-1 become additions.
template <int R, int K>
inline void combine(const Coefficients<R, K>& m, const __m512 (&in)[K], __m512 (&out)[R]) {
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    __m512 acc = _mm512_setzero_ps();
    bool started = false;
#pragma GCC unroll 8
    for (int k = 0; k < K; ++k) {
      const float c = m.v[r][k];
      if (c == 0.0f) continue;
      if (c == 1.0f)
        acc = started ? _mm512_add_ps(acc, in[k]) : in[k];
      else if (c == -1.0f)
        acc = started ? _mm512_sub_ps(acc, in[k]) : _mm512_sub_ps(_mm512_setzero_ps(), in[k]);
      else
        acc = started ? _mm512_fmadd_ps(_mm512_set1_ps(c), in[k], acc) : _mm512_mul_ps(_mm512_set1_ps(c), in[k]);
      started = true;
    }
    out[r] = acc;
  }
}

// The three 1-D transforms of F(m x m, 3 x 3) on 16 lanes: input d -> B^T d (a -> a), product
// m -> A^T m (a -> m), output gradient y -> A y (m -> a). F(2x2) applies the matrices as they
// are; F(4x4) shares subexpressions between rows (12, 10 and 8 operations instead of about 20,
// 14 and 12), which matters because at 16 channels the transforms cost as much as the GEMMs.
template <int M>
struct Lines;

template <>
struct Lines<2> {
  static constexpr Coefficients<4, 2> kA = transposed(Transforms<2>::AT);
  static void input(const __m512 (&d)[4], __m512 (&out)[4]) { combine(Transforms<2>::BT, d, out); }
  static void output(const __m512 (&m)[4], __m512 (&out)[2]) { combine(Transforms<2>::AT, m, out); }
  static void output_gradient(const __m512 (&y)[2], __m512 (&out)[4]) { combine(kA, y, out); }
};

template <>
struct Lines<4> {
  // The rows of Transforms<4>::BT, with a = d4 - 4 d2, b = d3 - 4 d1, p = d4 - d2, q = d3 - d1:
  // 4 d0 - 5 d2 + d4, a + b, a - b, p + 2q, p - 2q, 4 d1 - 5 d3 + d5.
  static void input(const __m512 (&d)[6], __m512 (&out)[6]) {
    const __m512 four = _mm512_set1_ps(4.0f), five = _mm512_set1_ps(5.0f), two = _mm512_set1_ps(2.0f);
    const __m512 a = _mm512_fnmadd_ps(four, d[2], d[4]), b = _mm512_fnmadd_ps(four, d[1], d[3]);
    const __m512 p = _mm512_sub_ps(d[4], d[2]), q = _mm512_sub_ps(d[3], d[1]);
    out[0] = _mm512_fmadd_ps(four, d[0], _mm512_fnmadd_ps(five, d[2], d[4]));
    out[1] = _mm512_add_ps(a, b);
    out[2] = _mm512_sub_ps(a, b);
    out[3] = _mm512_fmadd_ps(two, q, p);
    out[4] = _mm512_fnmadd_ps(two, q, p);
    out[5] = _mm512_fmadd_ps(four, d[1], _mm512_fnmadd_ps(five, d[3], d[5]));
  }
  // The rows of Transforms<4>::AT, with s = m1 + m2, t = m3 + m4, u = m1 - m2, v = m3 - m4:
  // m0 + s + t, u + 2v, s + 4t, u + 8v + m5.
  static void output(const __m512 (&m)[6], __m512 (&out)[4]) {
    const __m512 s = _mm512_add_ps(m[1], m[2]), t = _mm512_add_ps(m[3], m[4]);
    const __m512 u = _mm512_sub_ps(m[1], m[2]), v = _mm512_sub_ps(m[3], m[4]);
    out[0] = _mm512_add_ps(_mm512_add_ps(m[0], s), t);
    out[1] = _mm512_fmadd_ps(_mm512_set1_ps(2.0f), v, u);
    out[2] = _mm512_fmadd_ps(_mm512_set1_ps(4.0f), t, s);
    out[3] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(8.0f), v, u), m[5]);
  }
  // The rows of A = AT^T, with e = y0 + y2, o = y1 + y3, f = y0 + 4 y2, h = y1 + 4 y3:
  // y0, e + o, e - o, f + 2h, f - 2h, y3.
  static void output_gradient(const __m512 (&y)[4], __m512 (&out)[6]) {
    const __m512 four = _mm512_set1_ps(4.0f), two = _mm512_set1_ps(2.0f);
    const __m512 e = _mm512_add_ps(y[0], y[2]), o = _mm512_add_ps(y[1], y[3]);
    const __m512 f = _mm512_fmadd_ps(four, y[2], y[0]), h = _mm512_fmadd_ps(four, y[3], y[1]);
    out[0] = y[0];
    out[1] = _mm512_add_ps(e, o);
    out[2] = _mm512_sub_ps(e, o);
    out[3] = _mm512_fmadd_ps(two, h, f);
    out[4] = _mm512_fnmadd_ps(two, h, f);
    out[5] = y[3];
  }
};

// out = L in L^T for one tile and 16 channels, where line(v, w) applies L (R x K) to K vectors.
// The two orders differ only in which side walks memory in sequence (the other side is
// registers): columns_first loads in(r, q) column by column and stores out(r, j) row by row,
// in the order r * R + j; rows_first loads in(r, q) in the order r * K + q.
template <int R, int K, class Line, class Load, class Store>
inline void columns_first(Line line, Load load, Store store) {
  __m512 t[K][R];  // t[q] = L . column q of in
#pragma GCC unroll 8
  for (int q = 0; q < K; ++q) {
    __m512 col[K];
#pragma GCC unroll 8
    for (int r = 0; r < K; ++r) col[r] = load(r, q);
    line(col, t[q]);
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    __m512 row[K], out[R];
#pragma GCC unroll 8
    for (int q = 0; q < K; ++q) row[q] = t[q][r];
    line(row, out);
#pragma GCC unroll 8
    for (int j = 0; j < R; ++j) store(r, j, out[j]);
  }
}

// L in L^T = (L in^T L^T)^T: columns_first on the transposed tile walks `in` by rows.
template <int R, int K, class Line, class Load, class Store>
inline void rows_first(Line line, Load load, Store store) {
  columns_first<R, K>(
      line, [&](int r, int q) { return load(q, r); }, [&](int r, int j, __m512 v) { store(j, r, v); });
}

inline __mmask16 lanes_below(int64_t n) { return n >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u); }

// Tiles transformed and multiplied per pass of the forward: their transformed inputs and
// products (a^2 x tiles x channels each) stay in L2 between the three phases.
constexpr int64_t kTilesPerBlock = 24;

template <int M>
struct Layout {
  static constexpr int kA = M + 2;
  int64_t tiles_h, tiles_w;
  explicit Layout(const ConvGeometry& g) : tiles_h((g.out[1] + M - 1) / M), tiles_w((g.out[2] + M - 1) / M) {}
  int64_t tiles() const { return tiles_h * tiles_w; }
};

// Where the a x a input block of tile (ty, tx) lies in one sample: pixel (r, q) at
// rows[r] + q * c. The block is read in place; at the edges, pixels in the padding (outside the
// sample) are masked-off loads that read as zero: live[r] has bit q set for the pixels inside.
// (rows[] of such a block may point outside the sample; masked-off lanes are never accessed.)
template <int M>
struct InputBlock {
  static constexpr int kA = M + 2;
  const float* rows[kA];
  unsigned live[kA];
  bool edge = false;

  InputBlock(const float* x, const ConvGeometry& g, int64_t c, int64_t ty, int64_t tx) {
    const int64_t y0 = M * ty - g.pad_before[1], x0 = M * tx - g.pad_before[2];
    unsigned columns = 0;
    for (int q = 0; q < kA; ++q)
      if (x0 + q >= 0 && x0 + q < g.in[2]) columns |= 1u << q;
    for (int r = 0; r < kA; ++r) {
      const bool inside = y0 + r >= 0 && y0 + r < g.in[1];
      rows[r] = x + ((inside ? y0 + r : 0) * g.in[2] + x0) * c;
      live[r] = inside ? columns : 0u;
      edge = edge || live[r] != (1u << kA) - 1u;
    }
  }
};

// v = B^T d B for 16 channels (from c0, lanes under `lanes`) of one tile's input block;
// v[e] goes to out + e * out_stride. kC: the channel count when known at compile time (the
// pixel offsets q * c become constants), else 0 and c is used.
template <int M, int64_t kC, bool kEdge>
inline void transform_input(const InputBlock<M>& block, int64_t c, int64_t c0, __mmask16 lanes, float* out, int64_t out_stride) {
  if constexpr (kC != 0) c = kC;
  columns_first<M + 2, M + 2>(
      [](const auto& in, auto& out) { Lines<M>::input(in, out); },
      [&](int r, int q) {
        const __mmask16 live = kEdge ? ((block.live[r] >> q & 1u) ? lanes : __mmask16(0)) : lanes;
        return _mm512_maskz_loadu_ps(live, block.rows[r] + q * c + c0);
      },
      [&](int, int, __m512 v) {  // in the order of e
        _mm512_mask_storeu_ps(out, lanes, v);
        out += out_stride;
      });
}

template <int M, int64_t kC>
inline void transform_input_block(const InputBlock<M>& block, int64_t c, float* out, int64_t out_stride) {
  if constexpr (kC != 0) c = kC;
  for (int64_t c0 = 0; c0 < c; c0 += 16) {
    if (block.edge)
      transform_input<M, kC, true>(block, c, c0, lanes_below(c - c0), out + c0, out_stride);
    else
      transform_input<M, kC, false>(block, c, c0, lanes_below(c - c0), out + c0, out_stride);
  }
}

// y = A^T m A for 16 output channels of one tile (m[e] at in + e * in_stride), then + bias and
// relu: the m x m outputs.
template <int M>
inline void transform_output(const float* in, int64_t in_stride, __mmask16 lanes, __m512 bias, bool relu, __m512 (&y)[M][M]) {
  const __m512 zero = _mm512_setzero_ps();
  rows_first<M, M + 2>(
      [](const auto& in, auto& out) { Lines<M>::output(in, out); },
      [&](int, int) {  // in the order of e
        const __m512 v = _mm512_maskz_loadu_ps(lanes, in);
        in += in_stride;
        return v;
      },
      [&](int i, int j, __m512 v) {
        v = _mm512_add_ps(v, bias);
        y[i][j] = relu ? _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ), v) : v;
      });
}

// z = A g A^T for 16 channels of one tile's m x m output gradient g (missing outputs of an
// overhanging tile are zero); z[e] goes to out + e * out_stride.
template <int M>
inline void transform_output_gradient(const __m512 (&g)[M][M], float* out, int64_t out_stride, __mmask16 lanes) {
  columns_first<M + 2, M>(
      [](const auto& in, auto& out) { Lines<M>::output_gradient(in, out); }, [&](int r, int q) { return g[r][q]; },
      [&](int, int, __m512 v) {  // in the order of e
        _mm512_mask_storeu_ps(out, lanes, v);
        out += out_stride;
      });
}

// Walks tiles t0, t0 + 1, ... of consecutive samples, each sample's in row-major order,
// without dividing per tile.
struct TileCursor {
  int64_t sample, ty, tx, tiles_h, tiles_w;
  TileCursor(int64_t t0, int64_t h, int64_t w)
      : sample(t0 / (h * w)), ty(t0 % (h * w) / w), tx(t0 % w), tiles_h(h), tiles_w(w) {}
  void next() {
    if (++tx < tiles_w) return;
    tx = 0;
    if (++ty < tiles_h) return;
    ty = 0;
    ++sample;
  }
};

// The kernel gradient reads each tile's input block and output gradient from memory (the
// batch's tensors are larger than the caches) in short row pieces that the hardware prefetcher
// does not run ahead of: the columns that tile (ty, tx) adds to its left neighbour's are
// requested kPrefetchTiles tiles ahead. (Measured: 5% off the 32x32x16 kernel gradient at
// batch 128; the forward showed no difference through this machine's noise.)
constexpr int64_t kPrefetchTiles = 2;

template <int M>
inline void prefetch_tile(const ConvGeometry& g, const float* x, const float* dy, int64_t c, int64_t n, int64_t ty, int64_t tx) {
  auto lines = [](const float* p, int64_t floats) {
    for (int64_t i = 0; i < floats; i += 16) _mm_prefetch(reinterpret_cast<const char*>(p + i), _MM_HINT_T0);
  };
  const int64_t y0 = M * ty - g.pad_before[1], x0 = M * tx - g.pad_before[2] + 2;  // columns 2 .. a-1 are new
  const int64_t x_lo = std::max<int64_t>(x0, 0), x_hi = std::min<int64_t>(x0 + M, g.in[2]);
  if (x_hi > x_lo)
    for (int r = 0; r < M + 2; ++r)
      if (y0 + r >= 0 && y0 + r < g.in[1]) lines(x + ((y0 + r) * g.in[2] + x_lo) * c, (x_hi - x_lo) * c);
  const int64_t cols = std::min<int64_t>(M, g.out[2] - M * tx);
  for (int a = 0; a < M && M * ty + a < g.out[1]; ++a) lines(dy + ((M * ty + a) * g.out[2] + M * tx) * n, cols * n);
}

// The tiles of consecutive samples go through the blocks as one sequence, so that small images
// (4 tiles of an 8x8 output) still give the GEMMs full blocks of rows.
template <int M, int64_t kC, int64_t kN>
void forward_samples_for(const ConvGeometry& g, int64_t samples, const float* x, const float* transformed_w, const float* bias,
                         bool relu, float* y, bool accumulate) {
  const Layout<M> l(g);
  constexpr int A = Layout<M>::kA, kElements = A * A;
  const int64_t c = kC ? kC : g.c_in, n = kN ? kN : g.c_out, tiles = samples * l.tiles();
  const int64_t oh = g.out[1], ow = g.out[2];
  const int64_t in_size = g.in_positions() * c, out_size = g.out_positions() * n;
  thread_local ScratchBuffer v_buffer, m_buffer;
  const int64_t v_stride = kTilesPerBlock * c, m_stride = kTilesPerBlock * n;  // per Winograd element
  float* v = v_buffer.get(static_cast<size_t>(kElements * v_stride));
  float* m = m_buffer.get(static_cast<size_t>(kElements * m_stride));
  const std::vector<ColumnGroup> groups = column_groups(n);
  const int64_t zero_offset = 0;
  std::array<float*, 16> c_rows{};
  for (int64_t t0 = 0; t0 < tiles; t0 += kTilesPerBlock) {
    const int64_t block = std::min(kTilesPerBlock, tiles - t0);
    // 1. Transform the block's input tiles: v[e] is (tiles, c).
    TileCursor tile(t0, l.tiles_h, l.tiles_w);
    for (int64_t i = 0; i < block; ++i, tile.next())
      transform_input_block<M, kC>(InputBlock<M>(x + tile.sample * in_size, g, c, tile.ty, tile.tx), c, v + i * c, v_stride);
    // 2. Sum over channels: m[e] (tiles, n) = v[e] (tiles, c) . u[e] (c, n), one GEMM per element.
    for (int e = 0; e < kElements; ++e)
      for (const ColumnGroup& cols : groups) {
        const float* b = transformed_w + e * c * n + cols.begin;
        const int mr = rows_for(cols.vectors);
        for (int64_t r0 = 0; r0 < block; r0 += mr) {
          const int rows = static_cast<int>(std::min<int64_t>(mr, block - r0));
          for (int i = 0; i < rows; ++i) c_rows[static_cast<size_t>(i)] = m + e * m_stride + (r0 + i) * n + cols.begin;
          const Tile t{v + e * v_stride + r0 * c, c, 1, &zero_offset, &b, 1, c, n, c_rows.data(), cols.last_mask, false, nullptr, false};
          run(t, rows, cols.vectors);
        }
      }
    // 3. Back to m x m outputs per tile, with the bias and relu; tiles overhanging the output
    // drop their extra rows and columns.
    tile = TileCursor(t0, l.tiles_h, l.tiles_w);
    for (int64_t i = 0; i < block; ++i, tile.next()) {
      const int64_t rows_inside = std::min<int64_t>(M, oh - M * tile.ty), cols_inside = std::min<int64_t>(M, ow - M * tile.tx);
      float* y_tile = y + tile.sample * out_size + (M * tile.ty * ow + M * tile.tx) * n;
      for (int64_t n0 = 0; n0 < n; n0 += 16) {
        const __mmask16 lanes = lanes_below(n - n0);
        const __m512 b = bias ? _mm512_maskz_loadu_ps(lanes, bias + n0) : _mm512_setzero_ps();
        __m512 out[M][M];
        transform_output<M>(m + i * n + n0, m_stride, lanes, b, relu, out);
        for (int a = 0; a < M; ++a)
          for (int q = 0; q < M; ++q)
            if (a < rows_inside && q < cols_inside) {
              float* dst = y_tile + (a * ow + q) * n + n0;
              const __m512 v = accumulate ? _mm512_add_ps(out[a][q], _mm512_maskz_loadu_ps(lanes, dst)) : out[a][q];
              _mm512_mask_storeu_ps(dst, lanes, v);
            }
      }
    }
  }
}

// Tiles per kernel-gradient GEMM, the GEMM's reduction: long enough that the accumulators'
// loads and stores are a small part of each tile call, short enough that one group's
// transformed inputs and output gradients (a^2 x tiles x channels each) stay near the cache.
constexpr int64_t kTilesPerReduction = 256;

// The kernel gradient over the whole batch in the Winograd domain, the adjoint of the forward:
// for every tile, (B^T d B) (A dy A^T), summed over tiles into a^2 matrices (c_in, c_out), then
// back to (3, 3, c_in, c_out). The batch goes by in groups of samples, fixed by the geometry.
// Two schedules, chosen by the geometry alone, each with every sum in one order whatever the
// thread count:
// - small matrices (few channels): the groups run in parallel, each transforming its samples
//   and multiplying them into a partial sum of its own, on one thread, so that what a thread
//   transforms stays in its cache; the partials are added in group order. (Splitting the two
//   phases between threads made the GEMMs read half their operands from the other core's
//   cache: 1.07x on two threads at 32x32x16.)
// - large matrices: the groups go one after the other, first transformed in parallel over
//   samples, then each of the a^2 GEMMs adds the group's tiles onto its own matrix in parallel
//   over matrices, with no partial matrices to keep or add.
constexpr int64_t kMaxPartialFloats = 64 * 1024;

template <int M, int64_t kC, int64_t kN>
void weight_gradient_for(const ConvGeometry& g, const float* x, const float* dy, const float* relu_y, float* dw) {
  const Layout<M> l(g);
  constexpr int A = Layout<M>::kA, kElements = A * A;
  const int64_t c = kC ? kC : g.c_in, n = kN ? kN : g.c_out, tiles = l.tiles();
  const int64_t oh = g.out[1], ow = g.out[2];
  const int64_t in_size = g.in_positions() * c, out_size = g.out_positions() * n;
  const int64_t per_group = std::clamp<int64_t>((kTilesPerReduction + tiles - 1) / tiles, 1, g.batch);
  const int64_t v_stride = per_group * tiles * c, z_stride = per_group * tiles * n;  // per Winograd element
  const int64_t plane = kElements * c * n;
  const std::vector<ColumnGroup> groups = column_groups(n);
  const __m512 zero = _mm512_setzero_ps();
  // Sample `sample` into row block s of v and z (the group's s-th sample).
  auto transform_sample = [&](int64_t sample, int64_t s, float* v, float* z) {
    const float* xs = x + sample * in_size;
    const float* dys = dy + sample * out_size;
    const float* ys = relu_y ? relu_y + sample * out_size : nullptr;
    TileCursor tile(0, l.tiles_h, l.tiles_w);
    for (int64_t t = 0; t < tiles; ++t, tile.next()) {
      const int64_t k = s * tiles + t;  // the tile's row in v and z
      if (tile.tx + kPrefetchTiles < l.tiles_w) prefetch_tile<M>(g, xs, dys, c, n, tile.ty, tile.tx + kPrefetchTiles);
      transform_input_block<M, kC>(InputBlock<M>(xs, g, c, tile.ty, tile.tx), c, v + k * c, v_stride);
      const int64_t rows_inside = std::min<int64_t>(M, oh - M * tile.ty), cols_inside = std::min<int64_t>(M, ow - M * tile.tx);
      const int64_t at_tile = (M * tile.ty * ow + M * tile.tx) * n;
      for (int64_t n0 = 0; n0 < n; n0 += 16) {
        const __mmask16 lanes = lanes_below(n - n0);
        __m512 gy[M][M];
        for (int a = 0; a < M; ++a)
          for (int q = 0; q < M; ++q) {
            if (a >= rows_inside || q >= cols_inside) {  // an overhanging tile's missing outputs
              gy[a][q] = zero;
              continue;
            }
            const int64_t at = at_tile + (a * ow + q) * n + n0;
            // The fused relu's gradient: zero where the output was clamped.
            const __mmask16 live = ys ? lanes & _mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(lanes, ys + at), zero, _CMP_GT_OQ) : lanes;
            gy[a][q] = _mm512_maskz_loadu_ps(live, dys + at);
          }
        transform_output_gradient<M>(gy, z + k * n + n0, z_stride, lanes);
      }
    }
  };
  // out[e] (c, n) += v[e]^T (c, group_tiles) . z[e] (group_tiles, n) for e in [e0, e1)
  auto multiply = [&](const float* v, const float* z, int64_t group_tiles, float* out, int64_t e0, int64_t e1) {
    const int64_t zero_offset = 0;
    std::array<float*, 16> c_rows{};
    for (int64_t e = e0; e < e1; ++e)
      for (const ColumnGroup& cols : groups) {
        const float* b = z + e * z_stride + cols.begin;
        const int mr = rows_for(cols.vectors);
        for (int64_t c0 = 0; c0 < c; c0 += mr) {
          const int rows = static_cast<int>(std::min<int64_t>(mr, c - c0));
          for (int i = 0; i < rows; ++i) c_rows[static_cast<size_t>(i)] = out + (e * c + c0 + i) * n + cols.begin;
          const Tile tile{v + e * v_stride + c0, 1, c, &zero_offset, &b, 1, group_tiles, n, c_rows.data(), cols.last_mask, true, nullptr, false};
          run(tile, rows, cols.vectors);
        }
      }
  };
  std::vector<float> transformed(static_cast<size_t>(plane), 0.0f);
  if (plane <= kMaxPartialFloats) {
    const int64_t group_count = (g.batch + per_group - 1) / per_group;
    std::vector<float> partials(static_cast<size_t>(group_count * plane), 0.0f);
    parallel_chunks(g.batch, per_group, [&](int64_t group, int64_t b0, int64_t b1) {
      thread_local ScratchBuffer v_buffer, z_buffer;
      float* v = v_buffer.get(static_cast<size_t>(kElements * v_stride));
      float* z = z_buffer.get(static_cast<size_t>(kElements * z_stride));
      for (int64_t b = b0; b < b1; ++b) transform_sample(b, b - b0, v, z);
      multiply(v, z, (b1 - b0) * tiles, partials.data() + group * plane, 0, kElements);
    });
    float* out = transformed.data();
    parallel_for(0, plane, 4096, [&](int64_t lo, int64_t hi) {
      for (int64_t group = 0; group < group_count; ++group) {
        const float* part = partials.data() + group * plane;
        for (int64_t i = lo; i < hi; ++i) out[i] += part[i];
      }
    });
  } else {
    thread_local ScratchBuffer v_buffer, z_buffer;
    float* v = v_buffer.get(static_cast<size_t>(kElements * v_stride));
    float* z = z_buffer.get(static_cast<size_t>(kElements * z_stride));
    for (int64_t s0 = 0; s0 < g.batch; s0 += per_group) {
      const int64_t group_samples = std::min(per_group, g.batch - s0);
      parallel_for(0, group_samples, 1, [&](int64_t lo, int64_t hi) {
        for (int64_t s = lo; s < hi; ++s) transform_sample(s0 + s, s, v, z);
      });
      parallel_for(0, kElements, 1, [&](int64_t e0, int64_t e1) { multiply(v, z, group_samples * tiles, transformed.data(), e0, e1); });
    }
  }
  kernel_from_transformed_for<M>(transformed.data(), g, dw);
}

// Calls f.template operator()<M, kC, kN>() for the geometry's tile size, with the channel
// counts as compile-time constants for the square 16-, 32- and 64-channel convolutions
// (ResNet's), as run-time values (0) otherwise.
template <class F>
void dispatch(const ConvGeometry& g, Pass pass, F f) {
  if (tile_size(g, pass) == 2) return f.template operator()<2, 0, 0>();
  if (g.c_in == g.c_out) {
    if (g.c_in == 16) return f.template operator()<4, 16, 16>();
    if (g.c_in == 32) return f.template operator()<4, 32, 32>();
    if (g.c_in == 64) return f.template operator()<4, 64, 64>();
  }
  f.template operator()<4, 0, 0>();
}

}  // namespace

bool supports(const ConvGeometry& g) {
  if (g.spatial_rank < 2 || g.kernel[0] != 1 || g.kernel[1] != 3 || g.kernel[2] != 3) return false;
  if (g.in[0] != 1 || g.out[0] != 1) return false;
  for (int d = 1; d < 3; ++d) {
    if (g.stride[d] != 1 || g.dilation[d] != 1) return false;
    if (g.pad_before[d] < 0 || g.pad_before[d] > 2 || g.pad_before[d] + g.in[d] > g.out[d] + 2) return false;
  }
  // Below this the transforms cost more than the multiplies they save.
  return g.c_in >= 16 && g.c_out >= 16;
}

int64_t samples_per_block(const ConvGeometry& g) {
  const int64_t m = tile_size(g, Pass::kForward);
  const int64_t tiles = ((g.out[1] + m - 1) / m) * ((g.out[2] + m - 1) / m);
  return std::max<int64_t>(1, kTilesPerBlock / tiles);
}

void forward_samples(const ConvGeometry& g, int64_t samples, const float* x, const float* transformed_w, const float* bias,
                     bool relu, float* y, bool accumulate) {
  dispatch(g, Pass::kForward, [&]<int M, int64_t kC, int64_t kN>() {
    forward_samples_for<M, kC, kN>(g, samples, x, transformed_w, bias, relu, y, accumulate);
  });
}

void weight_gradient(const ConvGeometry& g, const float* x, const float* dy, const float* relu_y, float* dw) {
  dispatch(g, Pass::kKernelGradient, [&]<int M, int64_t kC, int64_t kN>() { weight_gradient_for<M, kC, kN>(g, x, dy, relu_y, dw); });
}

#else  // no AVX-512: conv_engine uses the other paths

bool supports(const ConvGeometry&) { return false; }
int64_t samples_per_block(const ConvGeometry&) { return 1; }
void forward_samples(const ConvGeometry&, int64_t, const float*, const float*, const float*, bool, float*, bool) {
  fail("conv", "the Winograd kernels need AVX-512");
}
void weight_gradient(const ConvGeometry&, const float*, const float*, const float*, float*) {
  fail("conv", "the Winograd kernels need AVX-512");
}

#endif

}  // namespace tapegrad::conv_winograd
