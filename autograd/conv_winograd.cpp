#include "autograd/conv_winograd.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/scratch.h"

#if defined(__AVX512F__)
#include "autograd/conv_tile_avx512.h"
#endif

namespace tapegrad::conv_winograd {

namespace {
constexpr int kTransformed = 16;  // elements of the 4x4 Winograd domain
}  // namespace

std::vector<float> transform_kernel(const float* w, const ConvGeometry& g) {
  const int64_t ci = g.c_in, co = g.c_out, plane = ci * co;
  std::vector<float> u(static_cast<size_t>(kTransformed * plane));
  for (int64_t k = 0; k < plane; ++k) {
    float gk[3][3], t[4][3];
    for (int r = 0; r < 3; ++r)
      for (int q = 0; q < 3; ++q) gk[r][q] = w[(r * 3 + q) * plane + k];
    // G g, with G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]
    for (int q = 0; q < 3; ++q) {
      t[0][q] = gk[0][q];
      t[1][q] = 0.5f * (gk[0][q] + gk[1][q] + gk[2][q]);
      t[2][q] = 0.5f * (gk[0][q] - gk[1][q] + gk[2][q]);
      t[3][q] = gk[2][q];
    }
    // (G g) G^T
    for (int r = 0; r < 4; ++r) {
      float* row = u.data() + (r * 4) * plane + k;
      row[0] = t[r][0];
      row[plane] = 0.5f * (t[r][0] + t[r][1] + t[r][2]);
      row[2 * plane] = 0.5f * (t[r][0] - t[r][1] + t[r][2]);
      row[3 * plane] = t[r][2];
    }
  }
  return u;
}

void weight_gradient_from_transformed(const float* transformed_dw, const ConvGeometry& g, float* dw) {
  const int64_t plane = g.c_in * g.c_out;
  for (int64_t k = 0; k < plane; ++k) {
    float m[4][4], t[3][4];
    for (int e = 0; e < kTransformed; ++e) m[e / 4][e % 4] = transformed_dw[e * plane + k];
    // G^T m, with G^T = [1 .5 .5 0; 0 .5 -.5 0; 0 .5 .5 1]
    for (int q = 0; q < 4; ++q) {
      t[0][q] = m[0][q] + 0.5f * (m[1][q] + m[2][q]);
      t[1][q] = 0.5f * (m[1][q] - m[2][q]);
      t[2][q] = 0.5f * (m[1][q] + m[2][q]) + m[3][q];
    }
    // (G^T m) G
    for (int r = 0; r < 3; ++r) {
      dw[(r * 3 + 0) * plane + k] = t[r][0] + 0.5f * (t[r][1] + t[r][2]);
      dw[(r * 3 + 1) * plane + k] = 0.5f * (t[r][1] - t[r][2]);
      dw[(r * 3 + 2) * plane + k] = 0.5f * (t[r][1] + t[r][2]) + t[r][3];
    }
  }
}

#if defined(__AVX512F__)

using namespace conv_tile;

namespace {

// Tiles transformed and multiplied per pass: their transformed inputs and products (16 x tiles
// x channels each) stay in L2 between the three phases.
constexpr int64_t kTilesPerBlock = 24;

struct Layout {
  int64_t tiles_h, tiles_w, padded_h, padded_w;
  explicit Layout(const ConvGeometry& g)
      : tiles_h((g.out[1] + 1) / 2), tiles_w((g.out[2] + 1) / 2), padded_h(2 * tiles_h + 2), padded_w(2 * tiles_w + 2) {}
};

// The sample inside a zero frame that covers every tile's 4x4 input block, in a per-thread
// buffer. Only the frame is zeroed; the interior is copied over.
const float* framed_input(const float* x, const ConvGeometry& g, const Layout& l) {
  thread_local ScratchBuffer buffer;
  const int64_t c = g.c_in, row = l.padded_w * c, size = l.padded_h * row;
  float* xp = buffer.get(static_cast<size_t>(size));
  const int64_t top = g.pad_before[1], left = g.pad_before[2], h = g.in[1], w = g.in[2];
  std::fill(xp, xp + top * row, 0.0f);
  for (int64_t r = 0; r < h; ++r) {
    float* dst = xp + (top + r) * row;
    std::fill(dst, dst + left * c, 0.0f);
    std::memcpy(dst + left * c, x + r * w * c, static_cast<size_t>(w * c) * sizeof(float));
    std::fill(dst + (left + w) * c, dst + row, 0.0f);
  }
  std::fill(xp + (top + h) * row, xp + size, 0.0f);
  return xp;
}

// v = B^T d B for 16 channels of one tile: d is the 4x4 input block at `base` (rows `row`
// floats apart, pixels `c` apart); v[e] goes to out + e * out_stride.
inline void transform_input(const float* base, int64_t row, int64_t c, __mmask16 mask, float* out, int64_t out_stride) {
  __m512 d[4][4], t[4][4];
  for (int r = 0; r < 4; ++r)
    for (int q = 0; q < 4; ++q) d[r][q] = _mm512_maskz_loadu_ps(mask, base + r * row + q * c);
  for (int q = 0; q < 4; ++q) {  // B^T d, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
    t[0][q] = _mm512_sub_ps(d[0][q], d[2][q]);
    t[1][q] = _mm512_add_ps(d[1][q], d[2][q]);
    t[2][q] = _mm512_sub_ps(d[2][q], d[1][q]);
    t[3][q] = _mm512_sub_ps(d[1][q], d[3][q]);
  }
  for (int r = 0; r < 4; ++r) {  // (B^T d) B
    float* o = out + (r * 4) * out_stride;
    _mm512_mask_storeu_ps(o, mask, _mm512_sub_ps(t[r][0], t[r][2]));
    _mm512_mask_storeu_ps(o + out_stride, mask, _mm512_add_ps(t[r][1], t[r][2]));
    _mm512_mask_storeu_ps(o + 2 * out_stride, mask, _mm512_sub_ps(t[r][2], t[r][1]));
    _mm512_mask_storeu_ps(o + 3 * out_stride, mask, _mm512_sub_ps(t[r][1], t[r][3]));
  }
}

// y = A^T m A for 16 output channels of one tile, A^T = [1 1 1 0; 0 1 -1 -1]: the 2x2 outputs,
// then + bias and relu. m[e] is at in + e * in_stride.
inline void transform_output(const float* in, int64_t in_stride, __mmask16 mask, __m512 bias, bool relu, __m512 y[2][2]) {
  __m512 m[4][4], s[2][4];
  for (int r = 0; r < 4; ++r)
    for (int q = 0; q < 4; ++q) m[r][q] = _mm512_maskz_loadu_ps(mask, in + (r * 4 + q) * in_stride);
  for (int q = 0; q < 4; ++q) {
    s[0][q] = _mm512_add_ps(_mm512_add_ps(m[0][q], m[1][q]), m[2][q]);
    s[1][q] = _mm512_sub_ps(_mm512_sub_ps(m[1][q], m[2][q]), m[3][q]);
  }
  const __m512 zero = _mm512_setzero_ps();
  for (int a = 0; a < 2; ++a) {
    y[a][0] = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s[a][0], s[a][1]), s[a][2]), bias);
    y[a][1] = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(s[a][1], s[a][2]), s[a][3]), bias);
    if (relu)
      for (int b = 0; b < 2; ++b) y[a][b] = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(y[a][b], zero, _CMP_GT_OQ), y[a][b]);
  }
}

// z = A g A^T for 16 channels of one tile's 2x2 output gradient g (missing outputs of an
// overhanging tile are zero), A = [1 0; 1 1; 1 -1; 0 -1]; z[e] goes to out + e * out_stride.
inline void transform_output_gradient(const __m512 g[2][2], float* out, int64_t out_stride, __mmask16 mask) {
  __m512 t[4][2];
  for (int q = 0; q < 2; ++q) {
    t[0][q] = g[0][q];
    t[1][q] = _mm512_add_ps(g[0][q], g[1][q]);
    t[2][q] = _mm512_sub_ps(g[0][q], g[1][q]);
    t[3][q] = _mm512_sub_ps(_mm512_setzero_ps(), g[1][q]);
  }
  for (int r = 0; r < 4; ++r) {
    float* o = out + (r * 4) * out_stride;
    _mm512_mask_storeu_ps(o, mask, t[r][0]);
    _mm512_mask_storeu_ps(o + out_stride, mask, _mm512_add_ps(t[r][0], t[r][1]));
    _mm512_mask_storeu_ps(o + 2 * out_stride, mask, _mm512_sub_ps(t[r][0], t[r][1]));
    _mm512_mask_storeu_ps(o + 3 * out_stride, mask, _mm512_sub_ps(_mm512_setzero_ps(), t[r][1]));
  }
}

inline __mmask16 lanes_below(int64_t n) { return n >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u); }

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
  const Layout l(g);
  const float* xp = framed_input(x, g, l);
  const int64_t c = g.c_in, n = g.c_out, tiles = l.tiles_h * l.tiles_w;
  const int64_t row = l.padded_w * c, oh = g.out[1], ow = g.out[2];
  thread_local ScratchBuffer v_buffer, m_buffer;
  const int64_t v_stride = kTilesPerBlock * c, m_stride = kTilesPerBlock * n;  // per Winograd element
  float* v = v_buffer.get(static_cast<size_t>(kTransformed * v_stride));
  float* m = m_buffer.get(static_cast<size_t>(kTransformed * m_stride));
  const std::vector<ColumnGroup> groups = column_groups(n);
  const int64_t zero_offset = 0;
  std::array<float*, 16> c_rows{};
  for (int64_t t0 = 0; t0 < tiles; t0 += kTilesPerBlock) {
    const int64_t block = std::min(kTilesPerBlock, tiles - t0);
    // 1. Transform the block's input tiles: v[e] is (tiles, c).
    for (int64_t i = 0; i < block; ++i) {
      const int64_t ty = (t0 + i) / l.tiles_w, tx = (t0 + i) % l.tiles_w;
      const float* base = xp + 2 * ty * row + 2 * tx * c;
      for (int64_t c0 = 0; c0 < c; c0 += 16) transform_input(base + c0, row, c, lanes_below(c - c0), v + i * c + c0, v_stride);
    }
    // 2. Sum over channels: m[e] (tiles, n) = v[e] (tiles, c) . u[e] (c, n), 16 GEMMs.
    for (int e = 0; e < kTransformed; ++e)
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
    // 3. Back to 2x2 outputs per tile, with the bias and relu; tiles overhanging an odd-sized
    // output drop their extra row or column.
    for (int64_t i = 0; i < block; ++i) {
      const int64_t ty = (t0 + i) / l.tiles_w, tx = (t0 + i) % l.tiles_w;
      for (int64_t n0 = 0; n0 < n; n0 += 16) {
        const __mmask16 mask = lanes_below(n - n0);
        const __m512 b = bias ? _mm512_maskz_loadu_ps(mask, bias + n0) : _mm512_setzero_ps();
        __m512 out[2][2];
        transform_output(m + i * n + n0, m_stride, mask, b, relu, out);
        for (int a = 0; a < 2; ++a)
          for (int q = 0; q < 2; ++q) {
            const int64_t oy = 2 * ty + a, ox = 2 * tx + q;
            if (oy < oh && ox < ow) _mm512_mask_storeu_ps(y + (oy * ow + ox) * n + n0, mask, out[a][q]);
          }
      }
    }
  }
}

void add_weight_gradient_sample(const ConvGeometry& g, const float* x, const float* dy, float* transformed_dw) {
  const Layout l(g);
  const float* xp = framed_input(x, g, l);
  const int64_t c = g.c_in, n = g.c_out, tiles = l.tiles_h * l.tiles_w;
  const int64_t row = l.padded_w * c, oh = g.out[1], ow = g.out[2];
  // Every tile of the sample at once: the GEMMs reduce over them, and the longer the reduction
  // the less the accumulators' loads and stores weigh.
  thread_local ScratchBuffer v_buffer, z_buffer;
  const int64_t v_stride = tiles * c, z_stride = tiles * n;
  float* v = v_buffer.get(static_cast<size_t>(kTransformed * v_stride));
  float* z = z_buffer.get(static_cast<size_t>(kTransformed * z_stride));
  for (int64_t t = 0; t < tiles; ++t) {
    const int64_t ty = t / l.tiles_w, tx = t % l.tiles_w;
    const float* base = xp + 2 * ty * row + 2 * tx * c;
    for (int64_t c0 = 0; c0 < c; c0 += 16) transform_input(base + c0, row, c, lanes_below(c - c0), v + t * c + c0, v_stride);
    for (int64_t n0 = 0; n0 < n; n0 += 16) {
      const __mmask16 mask = lanes_below(n - n0);
      __m512 gy[2][2];
      for (int a = 0; a < 2; ++a)
        for (int q = 0; q < 2; ++q) {
          const int64_t oy = 2 * ty + a, ox = 2 * tx + q;
          gy[a][q] = oy < oh && ox < ow ? _mm512_maskz_loadu_ps(mask, dy + (oy * ow + ox) * n + n0) : _mm512_setzero_ps();
        }
      transform_output_gradient(gy, z + t * n + n0, z_stride, mask);
    }
  }
  // transformed_dw[e] (c, n) += v[e]^T (c, tiles) . z[e] (tiles, n)
  const std::vector<ColumnGroup> groups = column_groups(n);
  const int64_t zero_offset = 0;
  std::array<float*, 16> c_rows{};
  for (int e = 0; e < kTransformed; ++e)
    for (const ColumnGroup& cols : groups) {
      const float* b = z + e * z_stride + cols.begin;
      const int mr = rows_for(cols.vectors);
      for (int64_t c0 = 0; c0 < c; c0 += mr) {
        const int rows = static_cast<int>(std::min<int64_t>(mr, c - c0));
        for (int i = 0; i < rows; ++i) c_rows[static_cast<size_t>(i)] = transformed_dw + (e * c + c0 + i) * n + cols.begin;
        const Tile tile{v + e * v_stride + c0, 1, c, &zero_offset, &b, 1, tiles, n, c_rows.data(), cols.last_mask, true, nullptr, false};
        run(tile, rows, cols.vectors);
      }
    }
}

#else  // no AVX-512: conv_engine uses the other paths

bool supports(const ConvGeometry&) { return false; }
void forward_sample(const ConvGeometry&, const float*, const float*, const float*, bool, float*) {
  fail("conv", "the Winograd kernels need AVX-512");
}
void add_weight_gradient_sample(const ConvGeometry&, const float*, const float*, float*) {
  fail("conv", "the Winograd kernels need AVX-512");
}

#endif

}  // namespace tapegrad::conv_winograd
