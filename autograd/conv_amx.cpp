#include "autograd/conv_amx.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "core/amx_tiles.h"
#include "tapegrad/core/bf16.h"

// GCC 12 warns that the AVX-512 intrinsics' own _mm512_undefined_* placeholders "may be used
// uninitialized" once they are inlined into these target-attribute functions; they are not.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace tapegrad::conv_amx {

namespace {

// The forward's tiles: tmm0-3: C (`rows` rows x 16 floats); tmm4: A, 32 k; tmm5: A, 16 k (the
// last step of a run that is 16 mod 32); tmm6: B, 16 pairs of k; tmm7: B, 8 pairs.
TAPEGRAD_AMX void load_forward_config(int rows = 16) {
  amx::TileConfig c;
  for (int t = 0; t < 4; ++t) c.tile(t, rows, 64);
  c.tile(4, rows, 64).tile(5, rows, 32).tile(6, 16, 64).tile(7, 8, 64);
  _tile_loadconfig(&c);
}

// The kernel gradient's: eight tiles of 16 rows x 64 bytes (tmm0-3 C, tmm4 A, tmm5-7 B).
TAPEGRAD_AMX void load_square_config() {
  amx::TileConfig c;
  for (int t = 0; t < 8; ++t) c.tile(t, 16, 64);
  _tile_loadconfig(&c);
}

constexpr int64_t kRows = 16;    // linear rows per tile

// One sample of x (in positions, c) converted to bf16 inside its zero frame of `padded` extents
// (x at g.pad_before), with `slack` zeros after it for the last tile's rows that run past the frame.
const uint16_t* framed_bf16(const float* x, const ConvGeometry& g, const std::array<int64_t, 3>& padded, int64_t slack) {
  const int64_t c = g.c_in, row = padded[2] * c, run = g.in[2] * c;
  const int64_t total = padded[0] * padded[1] * row;
  thread_local AlignedVector<uint16_t> buffer;  // tile rows are whole lines when c_in % 32 == 0
  buffer.resize(static_cast<size_t>(total + slack));
  uint16_t* xp = buffer.data();
  for (int64_t pd = 0; pd < padded[0]; ++pd)
    for (int64_t ph = 0; ph < padded[1]; ++ph) {
      uint16_t* dst = xp + (pd * padded[1] + ph) * row;
      const int64_t d = pd - g.pad_before[0], h = ph - g.pad_before[1];
      if (d < 0 || d >= g.in[0] || h < 0 || h >= g.in[1]) {
        std::fill(dst, dst + row, uint16_t{0});
        continue;
      }
      const int64_t left = g.pad_before[2] * c;
      std::fill(dst, dst + left, uint16_t{0});
      convert_to_bf16(x + (d * g.in[1] + h) * run, run, dst + left);
      std::fill(dst + left + run, dst + row, uint16_t{0});
    }
  std::fill(xp + total, xp + total + slack, uint16_t{0});
  return xp;
}

const uint16_t* framed_bf16(const float* x, const conv_direct::Plan& plan, int64_t slack) {
  return framed_bf16(x, plan.g, plan.padded, slack);
}

}  // namespace

bool supports(const ConvGeometry& g) {
  if (!bf16_isa_available(Bf16Isa::amx) || !conv_direct::supports(g) || g.c_in % 16 != 0) return false;
  for (int d = 0; d < 3; ++d)
    if (g.dilation[d] != 1) return false;
  return true;
}

namespace {

constexpr int64_t kPassRows = 4 * kRows;  // a pass: up to four row blocks share each B tile

// One C tile row (16 floats) + bias, relu, to the `mask`ed columns at dst (added to what dst
// holds with accumulate).
TAPEGRAD_AMX inline void store_row(const float* sum, __m512 bias, bool relu, __mmask16 mask, float* dst, bool accumulate = false) {
  __m512 v = _mm512_add_ps(_mm512_load_ps(sum), bias);
  if (accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, dst));
  if (relu) v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ), v);  // v > 0 ? v : 0
  _mm512_mask_storeu_ps(dst, mask, v);
}

TAPEGRAD_AMX inline __mmask16 column_mask(int64_t cols) { return static_cast<__mmask16>((1u << cols) - 1u); }

TAPEGRAD_AMX inline __m512 bias_columns(const float* bias, int64_t col0, __mmask16 mask) {
  return bias ? _mm512_maskz_loadu_ps(mask, bias + col0) : _mm512_setzero_ps();
}

// Rows r0 .. r0 + rows of a tile (row i at sums + i * 16) to y's columns col0 .. col0 + cols
// (at most 16), with the bias and relu. Rows that are not outputs (padding columns of the linear
// walk, or past the plane) are dropped.
TAPEGRAD_AMX void store_rows(const conv_direct::Plan& plan, const float* sums, int64_t r0, int64_t rows, int64_t col0,
                             int64_t cols, const float* bias, bool relu, int64_t od, float* ys, bool accumulate) {
  const ConvGeometry& g = plan.g;
  const int64_t n = g.c_out;
  const __mmask16 mask = column_mask(cols);
  const __m512 b = bias_columns(bias, col0, mask);
  rows = std::min<int64_t>(rows, plan.rows_per_plane - r0);
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t pos = plan.row_position[static_cast<size_t>(r0 + i)];
    if (pos >= 0) store_row(sums + i * 16, b, relu, mask, ys + (od * g.out[1] * g.out[2] + pos) * n + col0, accumulate);
  }
}

// The passes below write the 32-k step and the 16-k half step out twice: the tile intrinsics
// stringify their register numbers (in a build without -march=native), so a template over the
// tile numbers does not assemble.

// A tall pass, for at most 16 output columns: row blocks r0, r0 + 16, ... (row_blocks of them,
// 1 to 4) of plane od. Each K step loads the B tile once for all the row blocks' A tiles; C tile
// i goes to sums + i * 256.
TAPEGRAD_AMX void forward_tall_pass(const conv_direct::Plan& plan, const uint16_t* xp, const PackedBf16Matrix& w, int64_t od,
                                    int64_t r0, int row_blocks, float* sums) {
  const int64_t c = plan.g.c_in, run = plan.segment_steps, stride = c * 2;
  const int64_t block = kRows * c;  // elements from one row block to the next
  const uint16_t* b_block = w.data.data();
  const uint16_t* a_rows = xp + (od * plan.plane + r0) * c;
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (size_t p = 0; p < plan.segment_offset.size(); ++p) {
    const uint16_t* a = a_rows + plan.segment_offset[p];
    const int64_t k_segment = static_cast<int64_t>(p) * run;  // its first row of the kernel matrix
    for (int64_t t = 0; t < run; t += 32) {
      const uint16_t* bb = b_block + (k_segment + t) / 2 * 32;
      if (t + 32 <= run) {
        _tile_loadd(6, bb, 64);
        _tile_loadd(4, a + t, stride);
        _tile_dpbf16ps(0, 4, 6);
        if (row_blocks > 1) { _tile_loadd(4, a + block + t, stride); _tile_dpbf16ps(1, 4, 6); }
        if (row_blocks > 2) { _tile_loadd(4, a + 2 * block + t, stride); _tile_dpbf16ps(2, 4, 6); }
        if (row_blocks > 3) { _tile_loadd(4, a + 3 * block + t, stride); _tile_dpbf16ps(3, 4, 6); }
      } else {  // the run's last 16 elements
        _tile_loadd(7, bb, 64);
        _tile_loadd(5, a + t, stride);
        _tile_dpbf16ps(0, 5, 7);
        if (row_blocks > 1) { _tile_loadd(5, a + block + t, stride); _tile_dpbf16ps(1, 5, 7); }
        if (row_blocks > 2) { _tile_loadd(5, a + 2 * block + t, stride); _tile_dpbf16ps(2, 5, 7); }
        if (row_blocks > 3) { _tile_loadd(5, a + 3 * block + t, stride); _tile_dpbf16ps(3, 5, 7); }
      }
    }
  }
  _tile_stored(0, sums, 64);
  if (row_blocks > 1) _tile_stored(1, sums + kRows * 16, 64);
  if (row_blocks > 2) _tile_stored(2, sums + 2 * kRows * 16, 64);
  if (row_blocks > 3) _tile_stored(3, sums + 3 * kRows * 16, 64);
}

// A tile's rows: row i of A starts at a + i * a_stride (elements), and K runs over the
// segments (kernel rows, at `segment_offset` from a) of `run` elements each.
struct RowWalk {
  const uint16_t* a;
  int64_t a_stride;
  const std::vector<int64_t>& segment_offset;
  int64_t run;
};

// A wide pass: one row block times column blocks cb .. cb + col_blocks - 1 (1 to 4). Each K step
// loads the A tile once and the B tiles of the column blocks (measured faster, for two or more
// column blocks, than 2 x 2 blocking, although that loads fewer tiles per product); C tile i
// goes to sums + i * 256.
TAPEGRAD_AMX void forward_wide_pass(const RowWalk& walk, const PackedBf16Matrix& w, int64_t cb, int col_blocks, float* sums) {
  const int64_t run = walk.run, stride = walk.a_stride * 2;
  const int64_t block_stride = w.k_padded / 2 * 32;  // a column block: k / 2 pairs x 32
  const uint16_t* b_block = w.data.data() + cb * block_stride;
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (size_t p = 0; p < walk.segment_offset.size(); ++p) {
    const uint16_t* a = walk.a + walk.segment_offset[p];
    const int64_t k_segment = static_cast<int64_t>(p) * run;
    for (int64_t t = 0; t < run; t += 32) {
      const uint16_t* bb = b_block + (k_segment + t) / 2 * 32;
      if (t + 32 <= run) {
        _tile_loadd(4, a + t, stride);
        _tile_loadd(6, bb, 64);
        _tile_dpbf16ps(0, 4, 6);
        if (col_blocks > 1) { _tile_loadd(6, bb + block_stride, 64); _tile_dpbf16ps(1, 4, 6); }
        if (col_blocks > 2) { _tile_loadd(6, bb + 2 * block_stride, 64); _tile_dpbf16ps(2, 4, 6); }
        if (col_blocks > 3) { _tile_loadd(6, bb + 3 * block_stride, 64); _tile_dpbf16ps(3, 4, 6); }
      } else {  // the run's last 16 elements
        _tile_loadd(5, a + t, stride);
        _tile_loadd(7, bb, 64);
        _tile_dpbf16ps(0, 5, 7);
        if (col_blocks > 1) { _tile_loadd(7, bb + block_stride, 64); _tile_dpbf16ps(1, 5, 7); }
        if (col_blocks > 2) { _tile_loadd(7, bb + 2 * block_stride, 64); _tile_dpbf16ps(2, 5, 7); }
        if (col_blocks > 3) { _tile_loadd(7, bb + 3 * block_stride, 64); _tile_dpbf16ps(3, 5, 7); }
      }
    }
  }
  _tile_stored(0, sums, 64);
  if (col_blocks > 1) _tile_stored(1, sums + 256, 64);
  if (col_blocks > 2) _tile_stored(2, sums + 512, 64);
  if (col_blocks > 3) _tile_stored(3, sums + 768, 64);
}

}  // namespace

TAPEGRAD_AMX void forward_samples(const conv_direct::Plan& plan, int64_t samples, const float* x, const PackedBf16Matrix& w,
                     const float* bias, bool relu, float* y, bool accumulate) {
  const ConvGeometry& g = plan.g;
  const int64_t c = g.c_in, n = g.c_out, run = plan.segment_steps;  // a kernel row: kw * c_in elements
  const int64_t blocks = w.n_padded / 16;
  const int64_t in_size = g.in_positions() * c, out_size = g.out_positions() * n;
  // The last pass of a plane reads up to kPassRows - 1 rows past it, plus the widest offset and run.
  const int64_t slack = (kPassRows * c + run + plan.segment_offset.back()) + 64;
  alignas(64) float sums[kPassRows * 16];
  load_forward_config();
  for (int64_t s = 0; s < samples; ++s) {
    const uint16_t* xp = framed_bf16(x + s * in_size, plan, slack);
    float* ys = y + s * out_size;
    for (int64_t od = 0; od < g.out[0]; ++od) {
      if (blocks == 1) {  // tall passes: four row blocks share each B tile
        for (int64_t r0 = 0; r0 < plan.rows_per_plane; r0 += kPassRows) {
          const int row_blocks = static_cast<int>(std::min<int64_t>(4, (plan.rows_per_plane - r0 + kRows - 1) / kRows));
          forward_tall_pass(plan, xp, w, od, r0, row_blocks, sums);
          for (int i = 0; i < row_blocks; ++i)
            store_rows(plan, sums + i * 256, r0 + i * kRows, kRows, 0, n, bias, relu, od, ys, accumulate);
        }
        continue;
      }
      for (int64_t r0 = 0; r0 < plan.rows_per_plane; r0 += kRows)
        for (int64_t cb = 0; cb < blocks; cb += 4) {
          const int col_blocks = static_cast<int>(std::min<int64_t>(4, blocks - cb));
          forward_wide_pass({xp + (od * plan.plane + r0) * c, c, plan.segment_offset, run}, w, cb, col_blocks, sums);
          for (int i = 0; i < col_blocks; ++i) {
            const int64_t col0 = (cb + i) * 16;
            store_rows(plan, sums + i * 256, r0, kRows, col0, std::min<int64_t>(16, n - col0), bias, relu, od, ys, accumulate);
          }
        }
    }
  }
  _tile_release();
}

bool supports_strided(const ConvGeometry& g) {
  if (!bf16_isa_available(Bf16Isa::amx) || g.c_in % 16 != 0) return false;
  bool strided = false;
  for (int d = 0; d < 3; ++d) {
    if (g.dilation[d] != 1) return false;
    strided = strided || g.stride[d] > 1;
  }
  return strided;
}

TAPEGRAD_AMX void forward_strided_samples(const ConvGeometry& g, int64_t samples, const float* x, const PackedBf16Matrix& w,
                                          const float* bias, bool relu, float* y) {
  const int64_t c = g.c_in, n = g.c_out, blocks = w.n_padded / 16;
  // The frame holds every window: at least pad_before + in, and the last window's end.
  std::array<int64_t, 3> padded{};
  for (int d = 0; d < 3; ++d) padded[d] = std::max(g.pad_before[d] + g.in[d], (g.out[d] - 1) * g.stride[d] + g.kernel[d]);
  const int64_t plane = padded[1] * padded[2];
  std::vector<int64_t> segment_offset;  // per kernel row (kd, kh): its offset from the window's start
  for (int64_t kd = 0; kd < g.kernel[0]; ++kd)
    for (int64_t kh = 0; kh < g.kernel[1]; ++kh) segment_offset.push_back((kd * plane + kh * padded[2]) * c);
  const int64_t run = g.kernel[2] * c;
  // A tile's rows are up to 16 outputs of one output row, their windows stride[2] * c apart;
  // narrower rows take narrower tiles (no wasted products).
  const int rows = static_cast<int>(std::min<int64_t>(kRows, g.out[2]));
  const int64_t in_size = g.in_positions() * c, out_size = g.out_positions() * n;
  const int64_t slack = kRows * g.stride[2] * c + run + 64;  // a last row block's windows past the frame
  alignas(64) float sums[4 * 256];
  load_forward_config(rows);
  for (int64_t s = 0; s < samples; ++s) {
    const uint16_t* xp = framed_bf16(x + s * in_size, g, padded, slack);
    float* ys = y + s * out_size;
    for (int64_t od = 0; od < g.out[0]; ++od)
      for (int64_t oh = 0; oh < g.out[1]; ++oh)
        for (int64_t ow0 = 0; ow0 < g.out[2]; ow0 += rows) {
          const int64_t m = std::min<int64_t>(rows, g.out[2] - ow0);
          const uint16_t* a = xp + ((od * g.stride[0]) * plane + (oh * g.stride[1]) * padded[2] + ow0 * g.stride[2]) * c;
          float* dst = ys + ((od * g.out[1] + oh) * g.out[2] + ow0) * n;
          for (int64_t cb = 0; cb < blocks; cb += 4) {
            const int col_blocks = static_cast<int>(std::min<int64_t>(4, blocks - cb));
            forward_wide_pass({a, g.stride[2] * c, segment_offset, run}, w, cb, col_blocks, sums);
            for (int i = 0; i < col_blocks; ++i) {
              const int64_t col0 = (cb + i) * 16;
              const __mmask16 mask = column_mask(std::min<int64_t>(16, n - col0));
              const __m512 b = bias_columns(bias, col0, mask);
              for (int64_t r = 0; r < m; ++r) store_row(sums + i * 256 + r * 16, b, relu, mask, dst + r * n + col0);
            }
          }
        }
  }
  _tile_release();
}

bool supports_weight_gradient(const ConvGeometry& g) { return supports(g) && g.c_out % 16 == 0; }

namespace {

// r[i][j] -> r[j][i] for 16 rows of 16 floats, in registers.
TAPEGRAD_AMX inline void transpose16x16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
    r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  for (int i = 0; i < 2; ++i)
    for (int k = 0; k < 4; ++k) {
      t[8 * i + k] = _mm512_shuffle_f32x4(r[8 * i + k], r[8 * i + 4 + k], 0x88);
      t[8 * i + 4 + k] = _mm512_shuffle_f32x4(r[8 * i + k], r[8 * i + 4 + k], 0xDD);
    }
  for (int k = 0; k < 8; ++k) {
    r[k] = _mm512_shuffle_f32x4(t[k], t[8 + k], 0x88);
    r[8 + k] = _mm512_shuffle_f32x4(t[k], t[8 + k], 0xDD);
  }
}

// The output gradient of plane od on the linear rows, transposed and in bf16, as A tiles:
// dy_t[o * rows + r] = dy at linear row r (zero where r is not an output or is past the plane).
// rows is a multiple of 32, so every tile starts on a cache line.
TAPEGRAD_AMX void transpose_output_gradient(const conv_direct::Plan& plan, const float* dy, int64_t od, int64_t rows,
                                            uint16_t* dy_t) {
  const ConvGeometry& g = plan.g;
  const int64_t n = g.c_out, plane_outputs = g.out[1] * g.out[2];
  __m512 v[16];
  for (int64_t r0 = 0; r0 < rows; r0 += 16)
    for (int64_t o0 = 0; o0 < n; o0 += 16) {
      for (int64_t i = 0; i < 16; ++i) {
        const int64_t r = r0 + i, pos = r < plan.rows_per_plane ? plan.row_position[static_cast<size_t>(r)] : -1;
        v[i] = pos < 0 ? _mm512_setzero_ps() : _mm512_loadu_ps(dy + (od * plane_outputs + pos) * n + o0);
      }
      transpose16x16(v);
      for (int64_t j = 0; j < 16; ++j)
        _mm256_store_si256(reinterpret_cast<__m256i*>(dy_t + (o0 + j) * rows + r0), reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(v[j])));
    }
}

// Per framed position of one sample (padded extents, then zero slack up to `positions`): the
// offset of its channels in the sample's float32 input, or -1 for the zero frame and the slack.
std::vector<int64_t> framed_sources(const conv_direct::Plan& plan, int64_t positions) {
  const ConvGeometry& g = plan.g;
  std::vector<int64_t> source(static_cast<size_t>(positions), -1);
  int64_t q = 0;
  for (int64_t pd = 0; pd < plan.padded[0]; ++pd)
    for (int64_t ph = 0; ph < plan.padded[1]; ++ph)
      for (int64_t pw = 0; pw < plan.padded[2]; ++pw, ++q) {
        const int64_t d = pd - g.pad_before[0], h = ph - g.pad_before[1], w = pw - g.pad_before[2];
        if (d >= 0 && d < g.in[0] && h >= 0 && h < g.in[1] && w >= 0 && w < g.in[2])
          source[static_cast<size_t>(q)] = ((d * g.in[1] + h) * g.in[2] + w) * g.c_in;
      }
  return source;
}

// 16 channels of block cb at x + at in bf16, or zeros when at < 0 (a function, not a lambda: a
// lambda would not inherit the target attribute, and the portable build could not inline the
// intrinsics into it).
TAPEGRAD_AMX inline __m256i bf16_channels(const float* x, int64_t at, int64_t cb) {
  return at < 0 ? _mm256_setzero_si256() : reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(_mm512_loadu_ps(x + at + cb * 16)));
}

// One sample's framed input as B tiles, per parity of the first position: pair j of channel
// block cb in copy `parity` is framed positions 2j + parity and 2j + parity + 1 interleaved
// channel by channel (VNNI), 64 bytes; a tile is 16 consecutive pairs, one contiguous 1 KiB.
// Converted to bf16 straight from the float32 input (`source` says where each position is).
TAPEGRAD_AMX void interleave_positions(const float* x, const std::vector<int64_t>& source, int64_t c, int64_t pairs,
                                       uint16_t* xv) {
  alignas(64) static constexpr uint16_t kOrder[32] = {0, 16, 1, 17, 2,  18, 3,  19, 4,  20, 5,  21, 6,  22, 7,  23,
                                                      8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  const __m512i order = _mm512_load_si512(kOrder);
  const int64_t channel_blocks = c / 16, positions = static_cast<int64_t>(source.size());
  for (int64_t parity = 0; parity < 2; ++parity)
    for (int64_t cb = 0; cb < channel_blocks; ++cb) {
      uint16_t* dst = xv + (parity * channel_blocks + cb) * pairs * 32;
      for (int64_t j = 0; j < pairs; ++j) {
        const int64_t q = 2 * j + parity;
        const int64_t lo = q < positions ? source[static_cast<size_t>(q)] : -1;
        const int64_t hi = q + 1 < positions ? source[static_cast<size_t>(q + 1)] : -1;
        const __m512i both = _mm512_inserti64x4(_mm512_castsi256_si512(bf16_channels(x, lo, cb)), bf16_channels(x, hi, cb), 1);
        _mm512_store_si512(dst + j * 32, _mm512_permutexvar_epi16(order, both));
      }
    }
}

}  // namespace

TAPEGRAD_AMX void add_weight_gradient_samples(const conv_direct::Plan& plan, int64_t samples, const float* x, const float* dy,
                                              float* dw_t) {
  const ConvGeometry& g = plan.g;
  const int64_t c = g.c_in, n = g.c_out, kw_n = g.kernel[2], kc = g.kernel_positions() * c;
  const int64_t in_size = g.in_positions() * c, out_size = g.out_positions() * n;
  const int64_t rows = (plan.rows_per_plane + 31) / 32 * 32;  // linear rows per plane, whole K steps
  // B tiles read positions up to the last plane's start + rows + the widest tap + 1 (parity).
  const int64_t framed = plan.padded[0] * plan.plane;
  const int64_t widest_tap = plan.segment_offset.back() / c + kw_n - 1;
  const int64_t needed = (g.out[0] - 1) * plan.plane + rows + widest_tap + 2;
  const int64_t positions = std::max(framed, needed), pairs = (positions + 1) / 2;
  const std::vector<int64_t> source = framed_sources(plan, positions);
  thread_local AlignedVector<uint16_t> dy_t, xv;
  dy_t.resize(static_cast<size_t>(n * rows));
  xv.resize(static_cast<size_t>(2 * c * pairs * 2));
  // dw^T's 16 x 16 tiles, one per (output block, tap, channel block), in that order, taken 4 at a
  // time (tmm0-3): consecutive tiles mostly share their output block, whose A tile (the output
  // gradient, transposed) is then loaded once per K step for all four.
  struct Block {
    int64_t tap_offset;  // positions from a linear row to the tap's pixel
    int64_t o0, cb;      // first output channel, channel block
    float* c;            // dw_t + o0 * kc + tap * c + cb * 16
  };
  std::vector<Block> blocks;
  for (int64_t o0 = 0; o0 < n; o0 += 16)
    for (size_t p = 0; p < plan.segment_offset.size(); ++p)
      for (int64_t kw = 0; kw < kw_n; ++kw)
        for (int64_t cb = 0; cb < c / 16; ++cb) {
          const int64_t tap = static_cast<int64_t>(p) * kw_n + kw;
          blocks.push_back({plan.segment_offset[p] / c + kw, o0, cb, dw_t + o0 * kc + tap * c + cb * 16});
        }
  load_square_config();
  const int64_t c_stride = kc * 4, a_stride = rows * 2, copy = c / 16 * pairs * 32;  // one parity's copy
  for (int64_t s = 0; s < samples; ++s) {
    interleave_positions(x + s * in_size, source, c, pairs, xv.data());
    for (int64_t od = 0; od < g.out[0]; ++od) {
      transpose_output_gradient(plan, dy + s * out_size, od, rows, dy_t.data());
      const int64_t plane_start = od * plan.plane;
      for (size_t i0 = 0; i0 < blocks.size(); i0 += 4) {
        const size_t nb = std::min<size_t>(4, blocks.size() - i0);
        const Block* k = blocks.data() + i0;
        if (nb > 0) _tile_loadd(0, k[0].c, c_stride);
        if (nb > 1) _tile_loadd(1, k[1].c, c_stride);
        if (nb > 2) _tile_loadd(2, k[2].c, c_stride);
        if (nb > 3) _tile_loadd(3, k[3].c, c_stride);
        for (int64_t r0 = 0; r0 < rows; r0 += 32) {
          auto a_tile = [&](size_t i) { return dy_t.data() + k[i].o0 * rows + r0; };
          auto b_tile = [&](size_t i) {
            const int64_t q = plane_start + r0 + k[i].tap_offset, parity = q & 1;
            return xv.data() + parity * copy + k[i].cb * pairs * 32 + (q - parity) / 2 * 32;
          };
          _tile_loadd(4, a_tile(0), a_stride);
          _tile_loadd(5, b_tile(0), 64);
          _tile_dpbf16ps(0, 4, 5);
          if (nb > 1) {
            if (k[1].o0 != k[0].o0) _tile_loadd(4, a_tile(1), a_stride);
            _tile_loadd(6, b_tile(1), 64);
            _tile_dpbf16ps(1, 4, 6);
          }
          if (nb > 2) {
            if (k[2].o0 != k[1].o0) _tile_loadd(4, a_tile(2), a_stride);
            _tile_loadd(7, b_tile(2), 64);
            _tile_dpbf16ps(2, 4, 7);
          }
          if (nb > 3) {
            if (k[3].o0 != k[2].o0) _tile_loadd(4, a_tile(3), a_stride);
            _tile_loadd(5, b_tile(3), 64);
            _tile_dpbf16ps(3, 4, 5);
          }
        }
        if (nb > 0) _tile_stored(0, k[0].c, c_stride);
        if (nb > 1) _tile_stored(1, k[1].c, c_stride);
        if (nb > 2) _tile_stored(2, k[2].c, c_stride);
        if (nb > 3) _tile_stored(3, k[3].c, c_stride);
      }
    }
  }
  _tile_release();
}

}  // namespace tapegrad::conv_amx
