#include "autograd/conv_amx.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/amx_tiles.h"
#include "tapegrad/core/bf16.h"

namespace tapegrad::conv_amx {

namespace {

// tmm0-3: C (16 rows x 16 floats); tmm4: A, 32 k; tmm5: A, 16 k; tmm6: B, 16 pairs of k;
// tmm7: B, 8 pairs.
TAPEGRAD_AMX void load_config() {
  amx::TileConfig c;
  for (int t = 0; t < 4; ++t) c.tile(t, 16, 64);
  c.tile(4, 16, 64).tile(5, 16, 32).tile(6, 16, 64).tile(7, 8, 64);
  _tile_loadconfig(&c);
}

constexpr int64_t kRows = 16;    // linear rows per tile
constexpr int64_t kBlocks = 4;   // 16-column blocks of C per pass (tmm0-3)

// One sample of x (in positions, c) converted to bf16 inside its zero frame of `padded` extents,
// with zeros after it for the last tile's rows that run past the frame.
const uint16_t* framed_bf16(const float* x, const conv_direct::Plan& plan, int64_t slack) {
  const ConvGeometry& g = plan.g;
  const int64_t c = g.c_in, row = plan.padded[2] * c, run = g.in[2] * c;
  const int64_t total = plan.padded[0] * plan.padded[1] * row;
  thread_local std::vector<uint16_t> buffer;
  buffer.resize(static_cast<size_t>(total + slack));
  uint16_t* xp = buffer.data();
  for (int64_t pd = 0; pd < plan.padded[0]; ++pd)
    for (int64_t ph = 0; ph < plan.padded[1]; ++ph) {
      uint16_t* dst = xp + (pd * plan.padded[1] + ph) * row;
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

}  // namespace

bool supports(const ConvGeometry& g) {
  if (!bf16_isa_available(Bf16Isa::amx) || !conv_direct::supports(g) || g.c_in % 16 != 0) return false;
  for (int d = 0; d < 3; ++d)
    if (g.dilation[d] != 1) return false;
  return true;
}

namespace {

constexpr int64_t kTallRows = 4 * kRows;  // one column block: four row blocks per pass

// Rows r0 .. r0 + rows of a pass (sums: row i at sums + i * ld) to y, columns col0 .. col0 +
// cols, with the bias and relu. Rows that are not outputs (padding columns of the linear walk,
// or past the plane) are dropped.
void store_rows(const conv_direct::Plan& plan, const float* sums, int64_t ld, int64_t r0, int64_t rows, int64_t col0,
                int64_t cols, const float* bias, bool relu, int64_t od, float* ys) {
  const ConvGeometry& g = plan.g;
  const int64_t n = g.c_out;
  rows = std::min<int64_t>(rows, plan.rows_per_plane - r0);
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t pos = plan.row_position[static_cast<size_t>(r0 + i)];
    if (pos < 0) continue;
    float* dst = ys + (od * g.out[1] * g.out[2] + pos) * n + col0;
    const float* src = sums + i * ld;
    for (int64_t j = 0; j < cols; ++j) {
      const float v = src[j] + (bias ? bias[col0 + j] : 0.0f);
      dst[j] = relu ? (v > 0.0f ? v : 0.0f) : v;
    }
  }
}

// Plane od of a sample with at most 16 output columns: four row blocks share each B tile, so
// a K step loads one B and four A tiles for four products (instead of one B per product).
TAPEGRAD_AMX void forward_tall_pass(const conv_direct::Plan& plan, const uint16_t* xp, const PackedBf16Matrix& w,
                                    const float* bias, bool relu, int64_t od, float* ys) {
  const ConvGeometry& g = plan.g;
  const int64_t c = g.c_in, run = plan.segment_steps, stride = c * 2;
  alignas(64) float sums[kTallRows * 16];
  for (int64_t r0 = 0; r0 < plan.rows_per_plane; r0 += kTallRows) {
    const uint16_t* a_rows = xp + (od * plan.plane + r0) * c;
    const int64_t block = kRows * c;  // elements from one row block to the next
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (size_t p = 0; p < plan.segment_offset.size(); ++p) {
      const uint16_t* a = a_rows + plan.segment_offset[p];
      const int64_t k_segment = static_cast<int64_t>(p) * run;
      for (int64_t t = 0; t < run; t += 32) {
        const uint16_t* bb = w.data.data() + (k_segment + t) / 2 * 32;
        if (t + 32 <= run) {
          _tile_loadd(6, bb, 64);
          _tile_loadd(4, a + t, stride);
          _tile_dpbf16ps(0, 4, 6);
          _tile_loadd(4, a + block + t, stride);
          _tile_dpbf16ps(1, 4, 6);
          _tile_loadd(4, a + 2 * block + t, stride);
          _tile_dpbf16ps(2, 4, 6);
          _tile_loadd(4, a + 3 * block + t, stride);
          _tile_dpbf16ps(3, 4, 6);
        } else {  // the run's last 16 elements
          _tile_loadd(7, bb, 64);
          _tile_loadd(5, a + t, stride);
          _tile_dpbf16ps(0, 5, 7);
          _tile_loadd(5, a + block + t, stride);
          _tile_dpbf16ps(1, 5, 7);
          _tile_loadd(5, a + 2 * block + t, stride);
          _tile_dpbf16ps(2, 5, 7);
          _tile_loadd(5, a + 3 * block + t, stride);
          _tile_dpbf16ps(3, 5, 7);
        }
      }
    }
    _tile_stored(0, sums, 64);
    _tile_stored(1, sums + kRows * 16, 64);
    _tile_stored(2, sums + 2 * kRows * 16, 64);
    _tile_stored(3, sums + 3 * kRows * 16, 64);
    store_rows(plan, sums, 16, r0, kTallRows, 0, g.c_out, bias, relu, od, ys);
  }
}

}  // namespace

TAPEGRAD_AMX void forward_samples(const conv_direct::Plan& plan, int64_t samples, const float* x, const PackedBf16Matrix& w,
                     const float* bias, bool relu, float* y) {
  const ConvGeometry& g = plan.g;
  const int64_t c = g.c_in, n = g.c_out, run = plan.segment_steps;  // a kernel row: kw * c_in elements
  const int64_t blocks = w.n_padded / 16, block_stride = w.k_padded / 2 * 32;  // a block: k / 2 pairs x 32
  const int64_t in_size = g.in_positions() * c, out_size = g.out_positions() * n;
  const int64_t stride = c * 2;  // bytes from one linear row to the next
  // The last pass of a plane reads up to 4 * kRows - 1 rows past it, plus the widest offset and run.
  const int64_t slack = (kTallRows * c + run + plan.segment_offset.back()) + 64;
  alignas(64) float sums[kRows * kBlocks * 16];
  load_config();
  for (int64_t s = 0; s < samples; ++s) {
    const uint16_t* xp = framed_bf16(x + s * in_size, plan, slack);
    float* ys = y + s * out_size;
    for (int64_t od = 0; od < g.out[0]; ++od) {
      if (blocks == 1) {
        forward_tall_pass(plan, xp, w, bias, relu, od, ys);
        continue;
      }
      for (int64_t r0 = 0; r0 < plan.rows_per_plane; r0 += kRows) {
        const uint16_t* a_rows = xp + (od * plan.plane + r0) * c;
        for (int64_t b0 = 0; b0 < blocks; b0 += kBlocks) {
          const int64_t nb = std::min(kBlocks, blocks - b0);
          _tile_zero(0);
          _tile_zero(1);
          _tile_zero(2);
          _tile_zero(3);
          for (size_t p = 0; p < plan.segment_offset.size(); ++p) {
            const uint16_t* a_segment = a_rows + plan.segment_offset[p];
            const int64_t k_segment = static_cast<int64_t>(p) * run;  // its first row of the kernel matrix
            for (int64_t t = 0; t < run; t += 32) {
              const uint16_t* bb = w.data.data() + b0 * block_stride + (k_segment + t) / 2 * 32;
              if (t + 32 <= run) {
                _tile_loadd(4, a_segment + t, stride);
                _tile_loadd(6, bb, 64);
                _tile_dpbf16ps(0, 4, 6);
                if (nb > 1) { _tile_loadd(6, bb + block_stride, 64); _tile_dpbf16ps(1, 4, 6); }
                if (nb > 2) { _tile_loadd(6, bb + 2 * block_stride, 64); _tile_dpbf16ps(2, 4, 6); }
                if (nb > 3) { _tile_loadd(6, bb + 3 * block_stride, 64); _tile_dpbf16ps(3, 4, 6); }
              } else {  // the run's last 16 elements
                _tile_loadd(5, a_segment + t, stride);
                _tile_loadd(7, bb, 64);
                _tile_dpbf16ps(0, 5, 7);
                if (nb > 1) { _tile_loadd(7, bb + block_stride, 64); _tile_dpbf16ps(1, 5, 7); }
                if (nb > 2) { _tile_loadd(7, bb + 2 * block_stride, 64); _tile_dpbf16ps(2, 5, 7); }
                if (nb > 3) { _tile_loadd(7, bb + 3 * block_stride, 64); _tile_dpbf16ps(3, 5, 7); }
              }
            }
          }
          _tile_stored(0, sums, kBlocks * 64);
          _tile_stored(1, sums + 16, kBlocks * 64);
          _tile_stored(2, sums + 32, kBlocks * 64);
          _tile_stored(3, sums + 48, kBlocks * 64);
          store_rows(plan, sums, kBlocks * 16, r0, kRows, b0 * 16, std::min<int64_t>(nb * 16, n - b0 * 16), bias, relu, od, ys);
        }
      }
    }
  }
  _tile_release();
}

bool supports_weight_gradient(const ConvGeometry& g) { return supports(g) && g.c_out % 16 == 0; }

TAPEGRAD_AMX void add_weight_gradient_samples(const conv_direct::Plan& plan, int64_t samples, const float* x, const float* dy, float* dw) {
  const ConvGeometry& g = plan.g;
  const int64_t c = g.c_in, n = g.c_out, kw_n = g.kernel[2];
  const int64_t in_size = g.in_positions() * c, out_size = g.out_positions() * n;
  const int64_t rows = (plan.rows_per_plane + 31) / 32 * 32;  // linear rows per plane, whole K steps
  const int64_t positions = plan.padded[0] * plan.plane;
  // Transposed input: channel-major rows over every framed position, with slack for the last K
  // step's rows past the plane plus the widest kernel offset.
  const int64_t max_offset = plan.segment_offset.back() / c + kw_n;
  const int64_t row_length = (positions + rows + max_offset + 31) / 32 * 32;
  thread_local std::vector<uint16_t> transposed;
  thread_local std::vector<const float*> linear_dy;  // the output gradient's row per linear row
  thread_local PackedBf16Matrix b;                    // those rows packed, storage reused per sample
  transposed.assign(static_cast<size_t>(c * row_length), 0);
  linear_dy.resize(static_cast<size_t>(rows));
  // dw's 16 x 16 tiles, one per (column block, tap, channel block), in that order, taken 4 at a
  // time (tmm0-3); consecutive tiles mostly share their column block, whose B tile is then
  // loaded once per K step.
  struct Block {
    int64_t tap_offset;  // positions from a linear row to the tap's pixel
    int64_t ch0, col0;   // first channel (dw row within the tap) and first column
    float* c;            // dw + (tap * c + ch0) * n + col0
  };
  std::vector<Block> blocks;
  for (int64_t col0 = 0; col0 < n; col0 += 16)
    for (size_t p = 0; p < plan.segment_offset.size(); ++p)
      for (int64_t kw = 0; kw < kw_n; ++kw)
        for (int64_t ch0 = 0; ch0 < c; ch0 += 16) {
          const int64_t tap = static_cast<int64_t>(p) * kw_n + kw;
          blocks.push_back({plan.segment_offset[p] / c + kw, ch0, col0, dw + (tap * c + ch0) * n + col0});
        }
  load_config();
  const int64_t c_stride = n * 4, a_stride = row_length * 2;
  for (int64_t s = 0; s < samples; ++s) {
    const uint16_t* xp = framed_bf16(x + s * in_size, plan, 0);
    // Transposed 16 positions at a time, so that each channel row gets them as one run.
    for (int64_t pos0 = 0; pos0 < positions; pos0 += 16) {
      const int64_t run = std::min<int64_t>(16, positions - pos0);
      for (int64_t ch = 0; ch < c; ++ch) {
        uint16_t* dst = transposed.data() + ch * row_length + pos0;
        const uint16_t* src = xp + pos0 * c + ch;
        for (int64_t q = 0; q < run; ++q) dst[q] = src[q * c];
      }
    }
    for (int64_t od = 0; od < g.out[0]; ++od) {
      // dy on the linear rows of plane od (zero where a row is not an output), in VNNI layout.
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t pos = r < plan.rows_per_plane ? plan.row_position[static_cast<size_t>(r)] : -1;
        linear_dy[static_cast<size_t>(r)] = pos < 0 ? nullptr : dy + s * out_size + (od * g.out[1] * g.out[2] + pos) * n;
      }
      pack_bf16_b_rows(linear_dy.data(), rows, n, b);
      const int64_t pairs = b.k_padded / 2, plane_start = od * plan.plane;
      for (size_t i0 = 0; i0 < blocks.size(); i0 += 4) {
        const size_t nb = std::min<size_t>(4, blocks.size() - i0);
        const Block* k = blocks.data() + i0;
        bool shared = true;
        for (size_t i = 1; i < nb; ++i) shared = shared && k[i].col0 == k[0].col0;
        if (nb > 0) _tile_loadd(0, k[0].c, c_stride);
        if (nb > 1) _tile_loadd(1, k[1].c, c_stride);
        if (nb > 2) _tile_loadd(2, k[2].c, c_stride);
        if (nb > 3) _tile_loadd(3, k[3].c, c_stride);
        for (int64_t r0 = 0; r0 < rows; r0 += 32) {
          auto a_tile = [&](size_t i) { return transposed.data() + k[i].ch0 * row_length + plane_start + r0 + k[i].tap_offset; };
          auto b_tile = [&](size_t i) { return b.data.data() + (k[i].col0 / 16) * pairs * 32 + r0 * 16; };
          _tile_loadd(6, b_tile(0), 64);
          _tile_loadd(4, a_tile(0), a_stride);
          _tile_dpbf16ps(0, 4, 6);
          if (nb > 1) {
            if (!shared) _tile_loadd(6, b_tile(1), 64);
            _tile_loadd(4, a_tile(1), a_stride);
            _tile_dpbf16ps(1, 4, 6);
          }
          if (nb > 2) {
            if (!shared) _tile_loadd(6, b_tile(2), 64);
            _tile_loadd(4, a_tile(2), a_stride);
            _tile_dpbf16ps(2, 4, 6);
          }
          if (nb > 3) {
            if (!shared) _tile_loadd(6, b_tile(3), 64);
            _tile_loadd(4, a_tile(3), a_stride);
            _tile_dpbf16ps(3, 4, 6);
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
