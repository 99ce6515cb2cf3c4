#include "autograd/conv_winograd.h"

#include <algorithm>

#include "autograd/conv_direct.h"
#include "tapegrad/core/error.h"
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

// out (R x C) = a (R x K) . b (K x C), through double.
template <int R, int K, int C>
void multiply(const Coefficients<R, K>& a, const double (&b)[K][C], double (&out)[R][C]) {
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) {
      double s = 0.0;
      for (int k = 0; k < K; ++k) s += static_cast<double>(a.v[r][k]) * b[k][c];
      out[r][c] = s;
    }
}

template <int M>
std::vector<float> transform_kernel_for(const float* w, const ConvGeometry& g) {
  using T = Transforms<M>;
  constexpr int A = T::kA;
  const int64_t plane = g.c_in * g.c_out;
  std::vector<float> u(static_cast<size_t>(A * A * plane));
  for (int64_t k = 0; k < plane; ++k) {
    double gk[3][3], t[A][3], tt[3][A], uu[A][A];
    for (int r = 0; r < 3; ++r)
      for (int q = 0; q < 3; ++q) gk[r][q] = w[(r * 3 + q) * plane + k];
    multiply(T::G, gk, t);  // G g
    for (int r = 0; r < A; ++r)
      for (int q = 0; q < 3; ++q) tt[q][r] = t[r][q];
    double uT[A][A];
    multiply(T::G, tt, uT);  // (G (G g)^T) = (G g G^T)^T
    for (int r = 0; r < A; ++r)
      for (int q = 0; q < A; ++q) uu[r][q] = uT[q][r];
    for (int e = 0; e < A * A; ++e) u[static_cast<size_t>(e * plane + k)] = static_cast<float>(uu[e / A][e % A]);
  }
  return u;
}

template <int M>
void weight_gradient_for(const float* transformed_dw, const ConvGeometry& g, float* dw) {
  using T = Transforms<M>;
  constexpr int A = T::kA;
  constexpr Coefficients<3, A> GT = transposed(T::G);
  const int64_t plane = g.c_in * g.c_out;
  for (int64_t k = 0; k < plane; ++k) {
    double m[A][A], t[3][A], tt[A][3], out_t[3][3];
    for (int e = 0; e < A * A; ++e) m[e / A][e % A] = transformed_dw[e * plane + k];
    multiply(GT, m, t);  // G^T m
    for (int r = 0; r < 3; ++r)
      for (int q = 0; q < A; ++q) tt[q][r] = t[r][q];
    multiply(GT, tt, out_t);  // G^T (G^T m)^T = (G^T m G)^T
    for (int r = 0; r < 3; ++r)
      for (int q = 0; q < 3; ++q) dw[(r * 3 + q) * plane + k] = static_cast<float>(out_t[q][r]);
  }
}

}  // namespace

int64_t transformed_size(const ConvGeometry& g) {
  const int64_t a = tile_size(g, Pass::kKernelGradient) + 2;
  return a * a * g.c_in * g.c_out;
}

std::vector<float> transform_kernel(const float* w, const ConvGeometry& g) {
  return tile_size(g, Pass::kForward) == 4 ? transform_kernel_for<4>(w, g) : transform_kernel_for<2>(w, g);
}

void weight_gradient_from_transformed(const float* transformed_dw, const ConvGeometry& g, float* dw) {
  if (tile_size(g, Pass::kKernelGradient) == 4)
    weight_gradient_for<4>(transformed_dw, g, dw);
  else
    weight_gradient_for<2>(transformed_dw, g, dw);
}

#if defined(__AVX512F__)

using namespace conv_tile;

namespace {

// Tiles transformed and multiplied per pass: their transformed inputs and products (a^2 x tiles
// x channels each) stay in L2 between the three phases.
constexpr int64_t kTilesPerBlock = 24;

template <int M>
struct Layout {
  static constexpr int kA = M + 2;
  int64_t tiles_h, tiles_w, padded_h, padded_w;
  explicit Layout(const ConvGeometry& g)
      : tiles_h((g.out[1] + M - 1) / M), tiles_w((g.out[2] + M - 1) / M), padded_h(M * tiles_h + 2), padded_w(M * tiles_w + 2) {}
  int64_t tiles() const { return tiles_h * tiles_w; }
};

// The sample inside a zero frame that covers every tile's input block, in a per-thread buffer.
const float* framed_input(const float* x, const ConvGeometry& g, int64_t padded_h, int64_t padded_w) {
  thread_local ScratchBuffer buffer;
  return conv_direct::framed_input(x, g, {1, padded_h, padded_w}, buffer);
}

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

// out = L in L^T for one tile and 16 channels: in is K x K (load(r, q) gives element (r, q)),
// L is R x K, and store(r, j, v) takes element (r, j) of the R x R result. A column pass, then a
// row pass; every transform of the algorithm has this shape.
template <int R, int K, class Load, class Store>
inline void two_sided(const Coefficients<R, K>& l, Load load, Store store) {
  __m512 t[K][R];  // t[q] is column q of L in
#pragma GCC unroll 8
  for (int q = 0; q < K; ++q) {
    __m512 col[K];
#pragma GCC unroll 8
    for (int r = 0; r < K; ++r) col[r] = load(r, q);
    combine(l, col, t[q]);
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    __m512 row[K], out[R];
#pragma GCC unroll 8
    for (int q = 0; q < K; ++q) row[q] = t[q][r];
    combine(l, row, out);
#pragma GCC unroll 8
    for (int j = 0; j < R; ++j) store(r, j, out[j]);
  }
}

// v = B^T d B for 16 channels of one tile: d is the a x a input block at `base` (rows `row`
// floats apart, pixels `c` apart); v[e] goes to out + e * out_stride.
template <int M>
inline void transform_input(const float* base, int64_t row, int64_t c, __mmask16 mask, float* out, int64_t out_stride) {
  constexpr int A = Transforms<M>::kA;
  two_sided(
      Transforms<M>::BT, [&](int r, int q) { return _mm512_maskz_loadu_ps(mask, base + r * row + q * c); },
      [&](int r, int j, __m512 v) { _mm512_mask_storeu_ps(out + (r * A + j) * out_stride, mask, v); });
}

// y = A^T m A for 16 output channels of one tile (m[e] at in + e * in_stride), then + bias and
// relu: the m x m outputs.
template <int M>
inline void transform_output(const float* in, int64_t in_stride, __mmask16 mask, __m512 bias, bool relu, __m512 (&y)[M][M]) {
  constexpr int A = Transforms<M>::kA;
  const __m512 zero = _mm512_setzero_ps();
  two_sided(
      Transforms<M>::AT, [&](int r, int q) { return _mm512_maskz_loadu_ps(mask, in + (r * A + q) * in_stride); },
      [&](int r, int j, __m512 v) {
        v = _mm512_add_ps(v, bias);
        y[r][j] = relu ? _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ), v) : v;
      });
}

// z = A g A^T for 16 channels of one tile's m x m output gradient g (missing outputs of an
// overhanging tile are zero); z[e] goes to out + e * out_stride.
template <int M>
inline void transform_output_gradient(const __m512 (&g)[M][M], float* out, int64_t out_stride, __mmask16 mask) {
  constexpr int A = Transforms<M>::kA;
  static constexpr Coefficients<A, M> kA_ = transposed(Transforms<M>::AT);
  two_sided(
      kA_, [&](int r, int q) { return g[r][q]; },
      [&](int r, int j, __m512 v) { _mm512_mask_storeu_ps(out + (r * A + j) * out_stride, mask, v); });
}

inline __mmask16 lanes_below(int64_t n) { return n >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u); }

template <int M>
void forward_sample_for(const ConvGeometry& g, const float* x, const float* transformed_w, const float* bias, bool relu, float* y) {
  const Layout<M> l(g);
  constexpr int A = Layout<M>::kA, kElements = A * A;
  const float* xp = framed_input(x, g, l.padded_h, l.padded_w);
  const int64_t c = g.c_in, n = g.c_out, tiles = l.tiles();
  const int64_t row = l.padded_w * c, oh = g.out[1], ow = g.out[2];
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
    for (int64_t i = 0; i < block; ++i) {
      const int64_t ty = (t0 + i) / l.tiles_w, tx = (t0 + i) % l.tiles_w;
      const float* base = xp + M * ty * row + M * tx * c;
      for (int64_t c0 = 0; c0 < c; c0 += 16) transform_input<M>(base + c0, row, c, lanes_below(c - c0), v + i * c + c0, v_stride);
    }
    // 2. Sum over channels: m[e] (tiles, n) = v[e] (tiles, c) . u[e] (c, n), one GEMM per element.
    for (int e = 0; e < kElements; ++e)
      for (const ColumnGroup& cols : groups) {
        const float* b = transformed_w + e * c * n + cols.begin;
        const int mr = rows_for(cols.vectors);
        for (int64_t r0 = 0; r0 < block; r0 += mr) {
          const int rows = static_cast<int>(std::min<int64_t>(mr, block - r0));
          for (int i = 0; i < rows; ++i) c_rows[static_cast<size_t>(i)] = m + e * m_stride + (r0 + i) * n + cols.begin;
          const Tile tile{v + e * v_stride + r0 * c, c, 1, &zero_offset, &b, 1, c, n,
                          c_rows.data(), cols.last_mask, false, nullptr, false};
          run(tile, rows, cols.vectors);
        }
      }
    // 3. Back to m x m outputs per tile, with the bias and relu; tiles overhanging the output
    // drop their extra rows and columns.
    for (int64_t i = 0; i < block; ++i) {
      const int64_t ty = (t0 + i) / l.tiles_w, tx = (t0 + i) % l.tiles_w;
      for (int64_t n0 = 0; n0 < n; n0 += 16) {
        const __mmask16 mask = lanes_below(n - n0);
        const __m512 b = bias ? _mm512_maskz_loadu_ps(mask, bias + n0) : _mm512_setzero_ps();
        __m512 out[M][M];
        transform_output<M>(m + i * n + n0, m_stride, mask, b, relu, out);
        for (int a = 0; a < M; ++a)
          for (int q = 0; q < M; ++q) {
            const int64_t oy = M * ty + a, ox = M * tx + q;
            if (oy < oh && ox < ow) _mm512_mask_storeu_ps(y + (oy * ow + ox) * n + n0, mask, out[a][q]);
          }
      }
    }
  }
}

// Tiles per kernel-gradient GEMM: the GEMMs reduce over tiles, and below this many the
// accumulators' loads and stores weigh on every tile call; samples are taken together to reach it.
constexpr int64_t kMinTilesPerReduction = 64;

template <int M>
void add_weight_gradient_for(const ConvGeometry& g, const float* x, const float* dy, int64_t samples, float* transformed_dw) {
  const Layout<M> l(g);
  constexpr int A = Layout<M>::kA, kElements = A * A;
  const int64_t c = g.c_in, n = g.c_out, tiles = l.tiles();
  const int64_t row = l.padded_w * c, oh = g.out[1], ow = g.out[2];
  const int64_t in_size = g.in_positions() * c, out_size = g.out_positions() * n;
  const int64_t per_group = std::min(samples, (kMinTilesPerReduction + tiles - 1) / tiles);
  thread_local ScratchBuffer v_buffer, z_buffer;
  const int64_t v_stride = per_group * tiles * c, z_stride = per_group * tiles * n;
  float* v = v_buffer.get(static_cast<size_t>(kElements * v_stride));
  float* z = z_buffer.get(static_cast<size_t>(kElements * z_stride));
  const std::vector<ColumnGroup> groups = column_groups(n);
  const int64_t zero_offset = 0;
  std::array<float*, 16> c_rows{};
  for (int64_t s0 = 0; s0 < samples; s0 += per_group) {
    const int64_t group_samples = std::min(per_group, samples - s0), group_tiles = group_samples * tiles;
    for (int64_t s = 0; s < group_samples; ++s) {
      const float* xp = framed_input(x + (s0 + s) * in_size, g, l.padded_h, l.padded_w);
      const float* dys = dy + (s0 + s) * out_size;
      for (int64_t t = 0; t < tiles; ++t) {
        const int64_t ty = t / l.tiles_w, tx = t % l.tiles_w, k = s * tiles + t;  // k: the tile's row in v and z
        const float* base = xp + M * ty * row + M * tx * c;
        for (int64_t c0 = 0; c0 < c; c0 += 16)
          transform_input<M>(base + c0, row, c, lanes_below(c - c0), v + k * c + c0, v_stride);
        for (int64_t n0 = 0; n0 < n; n0 += 16) {
          const __mmask16 mask = lanes_below(n - n0);
          __m512 gy[M][M];
          for (int a = 0; a < M; ++a)
            for (int q = 0; q < M; ++q) {
              const int64_t oy = M * ty + a, ox = M * tx + q;
              gy[a][q] = oy < oh && ox < ow ? _mm512_maskz_loadu_ps(mask, dys + (oy * ow + ox) * n + n0) : _mm512_setzero_ps();
            }
          transform_output_gradient<M>(gy, z + k * n + n0, z_stride, mask);
        }
      }
    }
    // transformed_dw[e] (c, n) += v[e]^T (c, tiles) . z[e] (tiles, n)
    for (int e = 0; e < kElements; ++e)
      for (const ColumnGroup& cols : groups) {
        const float* b = z + e * z_stride + cols.begin;
        const int mr = rows_for(cols.vectors);
        for (int64_t c0 = 0; c0 < c; c0 += mr) {
          const int rows = static_cast<int>(std::min<int64_t>(mr, c - c0));
          for (int i = 0; i < rows; ++i) c_rows[static_cast<size_t>(i)] = transformed_dw + (e * c + c0 + i) * n + cols.begin;
          const Tile tile{v + e * v_stride + c0, 1, c, &zero_offset, &b, 1, group_tiles, n, c_rows.data(), cols.last_mask, true, nullptr, false};
          run(tile, rows, cols.vectors);
        }
      }
  }
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

void forward_sample(const ConvGeometry& g, const float* x, const float* transformed_w, const float* bias, bool relu, float* y) {
  if (tile_size(g, Pass::kForward) == 4)
    forward_sample_for<4>(g, x, transformed_w, bias, relu, y);
  else
    forward_sample_for<2>(g, x, transformed_w, bias, relu, y);
}

void add_weight_gradient(const ConvGeometry& g, const float* x, const float* dy, int64_t samples, float* transformed_dw) {
  if (tile_size(g, Pass::kKernelGradient) == 4)
    add_weight_gradient_for<4>(g, x, dy, samples, transformed_dw);
  else
    add_weight_gradient_for<2>(g, x, dy, samples, transformed_dw);
}

#else  // no AVX-512: conv_engine uses the other paths

bool supports(const ConvGeometry&) { return false; }
void forward_sample(const ConvGeometry&, const float*, const float*, const float*, bool, float*) {
  fail("conv", "the Winograd kernels need AVX-512");
}
void add_weight_gradient(const ConvGeometry&, const float*, const float*, int64_t, float*) {
  fail("conv", "the Winograd kernels need AVX-512");
}

#endif

}  // namespace tapegrad::conv_winograd
