#include "core/gemm_bf16.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

#include "core/amx_tiles.h"
#include "core/cpu_features.h"
#include "core/scratch.h"
#include "tapegrad/core/parallel.h"
#include "tapegrad/core/error.h"

namespace tapegrad {

namespace {

constexpr int64_t kKAlign = 32;  // k per AMX tile row (64 bytes of bf16)
constexpr int64_t kNAlign = 16;  // columns per block

int64_t round_up(int64_t v, int64_t to) { return (v + to - 1) / to * to; }

// One row of floats to bf16 with VCVTNE2PS2BF16, which rounds exactly as to_bf16 does (the
// tests check it bit for bit): 32 at a time, the tail scalar.
__attribute__((target("avx512f,avx512bw,avx512bf16"))) void convert_row_avx512_bf16(const float* src, int64_t n, uint16_t* dst) {
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + j + 16), _mm512_loadu_ps(src + j));
    _mm512_storeu_si512(dst + j, (__m512i)v);
  }
  for (; j < n; ++j) dst[j] = to_bf16(src[j]);
}

__attribute__((target("avx512f,avx512bw,avx512bf16"))) void round_row_avx512_bf16(const float* src, int64_t n, float* dst) {
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const __m256i h = (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(src + j));
    _mm512_storeu_si512(dst + j, _mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  for (; j < n; ++j) dst[j] = round_to_bf16(src[j]);
}

}  // namespace

void round_to_bf16(const float* src, int64_t n, float* dst) {
  if (cpu::features().avx512_bf16) {
    round_row_avx512_bf16(src, n, dst);
    return;
  }
  for (int64_t j = 0; j < n; ++j) dst[j] = round_to_bf16(src[j]);
}

void convert_to_bf16(const float* src, int64_t n, uint16_t* dst) {
  if (cpu::features().avx512_bf16) {
    convert_row_avx512_bf16(src, n, dst);
    return;
  }
  for (int64_t j = 0; j < n; ++j) dst[j] = to_bf16(src[j]);
}

namespace {

// op(A) (m x k) rounded to bf16, row-major with row stride k_padded, zero past k.
const uint16_t* pack_a(const GemmOperand& a, int64_t m, int64_t k, int64_t k_padded) {
  thread_local AlignedVector<uint16_t> buffer;
  buffer.resize(static_cast<size_t>(m * k_padded));
  uint16_t* out = buffer.data();
  for (int64_t i = 0; i < m; ++i) {
    uint16_t* row = out + i * k_padded;
    if (!a.transposed) convert_to_bf16(a.data + i * a.ld, k, row);
    std::fill(row + k, row + k_padded, uint16_t{0});
  }
  if (a.transposed) {
    // op(A) row i is stored column i. 16 stored rows at a time are converted into `piece`
    // (contiguous), then each packed row gets its 16 values as one run: writing them one by one
    // down the packed rows, k_padded apart, lands every store in the same few cache sets when
    // k_padded is a power of two.
    constexpr int64_t kRun = 16;
    thread_local std::vector<uint16_t> piece;
    piece.resize(static_cast<size_t>(kRun * m));
    for (int64_t j0 = 0; j0 < k; j0 += kRun) {
      const int64_t run = std::min(kRun, k - j0);
      for (int64_t j = 0; j < run; ++j) convert_to_bf16(a.data + (j0 + j) * a.ld, m, piece.data() + j * m);
      for (int64_t i = 0; i < m; ++i) {
        uint16_t* dst = out + i * k_padded + j0;
        for (int64_t j = 0; j < run; ++j) dst[j] = piece[static_cast<size_t>(j * m + i)];
      }
    }
  }
  return out;
}

// Adds (or writes) a block of float sums into C: rows [0, rows), columns [0, cols).
void store_block(const float* sums, int64_t sums_ld, float* c, int64_t ldc, int64_t rows, int64_t cols, bool accumulate) {
  for (int64_t i = 0; i < rows; ++i) {
    float* dst = c + i * ldc;
    const float* src = sums + i * sums_ld;
    if (accumulate)
      for (int64_t j = 0; j < cols; ++j) dst[j] += src[j];
    else
      std::memcpy(dst, src, static_cast<size_t>(cols) * sizeof(float));
  }
}

// ---- AVX512-BF16: VDPBF16PS on a register tile of MR rows x 32 columns ----

constexpr int kAvxRows = 12;

template <int MR>
__attribute__((target("avx512f,avx512bw,avx512bf16"))) void avx512_bf16_tile(const uint16_t* a, int64_t lda, const uint16_t* b0,
                                                                              const uint16_t* b1, int64_t pairs, float* sums) {
  __m512 acc[MR][2];
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int64_t p = 0; p < pairs; ++p) {
    const __m512bh v0 = (__m512bh)_mm512_loadu_si512(b0 + p * 32);
    const __m512bh v1 = (__m512bh)_mm512_loadu_si512(b1 + p * 32);
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
      // The pair of a as one 32-bit lane (memcpy: no aliasing; it folds into a broadcast load).
      int32_t pair;
      std::memcpy(&pair, a + i * lda + 2 * p, sizeof pair);
      const __m512bh av = (__m512bh)_mm512_set1_epi32(pair);
      acc[i][0] = _mm512_dpbf16_ps(acc[i][0], av, v0);
      acc[i][1] = _mm512_dpbf16_ps(acc[i][1], av, v1);
    }
  }
  for (int i = 0; i < MR; ++i) {
    _mm512_storeu_ps(sums + i * 32, acc[i][0]);
    _mm512_storeu_ps(sums + i * 32 + 16, acc[i][1]);
  }
}

using AvxTileFn = void (*)(const uint16_t*, int64_t, const uint16_t*, const uint16_t*, int64_t, float*);
template <size_t... R>
constexpr std::array<AvxTileFn, sizeof...(R)> avx_tiles(std::index_sequence<R...>) {
  return {&avx512_bf16_tile<static_cast<int>(R) + 1>...};
}

// A single last block of 16 columns is paired with zeros.
const uint16_t* zero_block(int64_t pairs) {
  thread_local AlignedVector<uint16_t> zeros;
  if (zeros.size() < static_cast<size_t>(pairs * 32)) zeros.assign(static_cast<size_t>(pairs * 32), 0);
  return zeros.data();
}

void gemm_avx512_bf16(Bf16Rows a, const PackedBf16Matrix& b, float* c, int64_t ldc, int64_t m, bool accumulate) {
  static constexpr auto tiles = avx_tiles(std::make_index_sequence<kAvxRows>());
  const int64_t pairs = b.k_padded / 2, blocks = b.n_padded / 16;
  alignas(64) float sums[kAvxRows * 32];
  // Row blocks outer: each block's panel of A is read once, while B (a kernel: small) stays in L2.
  for (int64_t i0 = 0; i0 < m; i0 += kAvxRows) {
    const int rows = static_cast<int>(std::min<int64_t>(kAvxRows, m - i0));
    for (int64_t jb = 0; jb < blocks; jb += 2) {
      const uint16_t* b0 = b.data.data() + jb * pairs * 32;
      const uint16_t* b1 = jb + 1 < blocks ? b0 + pairs * 32 : zero_block(pairs);
      tiles[static_cast<size_t>(rows - 1)](a.data + i0 * a.ld, a.ld, b0, b1, pairs, sums);
      store_block(sums, 32, c + i0 * ldc + jb * 16, ldc, rows, std::min<int64_t>(32, b.n - jb * 16), accumulate);
    }
  }
}

// ---- AMX: TDPBF16PS on 2 x 2 tiles of 16 x 16 floats ----

TAPEGRAD_AMX void gemm_amx(Bf16Rows a, const PackedBf16Matrix& b, float* c, int64_t ldc, int64_t m, bool accumulate) {
  const int64_t kp = b.k_padded, pairs = kp / 2, blocks = b.n_padded / 16;
  amx::TileConfig config;
  for (int t = 0; t < 8; ++t) config.tile(t, 16, 64);  // tmm0-3: C, tmm4-5: A, tmm6-7: B
  _tile_loadconfig(&config);
  alignas(64) float sums[32 * 32];
  thread_local AlignedVector<uint16_t> ragged;  // a last block of fewer than 32 rows, zero-padded
  for (int64_t i0 = 0; i0 < m; i0 += 32) {  // row blocks outer, as above
    const int64_t rows = std::min<int64_t>(32, m - i0);
    const uint16_t* a0 = a.data + i0 * a.ld;
    int64_t a_ld = a.ld;
    if (rows < 32) {
      ragged.assign(static_cast<size_t>(32 * kp), 0);
      for (int64_t i = 0; i < rows; ++i) std::memcpy(ragged.data() + i * kp, a0 + i * a.ld, static_cast<size_t>(kp) * 2);
      a0 = ragged.data();
      a_ld = kp;
    }
    const uint16_t* a1 = a0 + 16 * a_ld;
    const int64_t a_stride = a_ld * 2;  // bytes per A row
    for (int64_t jb = 0; jb < blocks; jb += 2) {
      const uint16_t* b0 = b.data.data() + jb * pairs * 32;
      const int64_t cols = std::min<int64_t>(32, b.n - jb * 16);
      if (jb + 1 < blocks) {  // 32 x 32: four C tiles
        const uint16_t* b1 = b0 + pairs * 32;
        _tile_zero(0);
        _tile_zero(1);
        _tile_zero(2);
        _tile_zero(3);
        for (int64_t k0 = 0; k0 < kp; k0 += kKAlign) {
          _tile_loadd(4, a0 + k0, a_stride);
          _tile_loadd(5, a1 + k0, a_stride);
          _tile_loadd(6, b0 + k0 * 16, 64);  // 16 pairs of rows from pair k0 / 2: 32 bf16 each
          _tile_loadd(7, b1 + k0 * 16, 64);
          _tile_dpbf16ps(0, 4, 6);
          _tile_dpbf16ps(1, 4, 7);
          _tile_dpbf16ps(2, 5, 6);
          _tile_dpbf16ps(3, 5, 7);
        }
        _tile_stored(0, sums, 128);
        _tile_stored(1, sums + 16, 128);
        _tile_stored(2, sums + 16 * 32, 128);
        _tile_stored(3, sums + 16 * 32 + 16, 128);
      } else {  // the last 16 columns: two C tiles
        _tile_zero(0);
        _tile_zero(2);
        for (int64_t k0 = 0; k0 < kp; k0 += kKAlign) {
          _tile_loadd(4, a0 + k0, a_stride);
          _tile_loadd(5, a1 + k0, a_stride);
          _tile_loadd(6, b0 + k0 * 16, 64);
          _tile_dpbf16ps(0, 4, 6);
          _tile_dpbf16ps(2, 5, 6);
        }
        _tile_stored(0, sums, 128);
        _tile_stored(2, sums + 16 * 32, 128);
      }
      store_block(sums, 32, c + i0 * ldc + jb * 16, ldc, rows, cols, accumulate);
    }
  }
  _tile_release();
}

// ---- Emulation: float32 GEMM on the rounded operands ----

void gemm_emulated(Bf16Rows a, const PackedBf16Matrix& b, float* c, int64_t ldc, int64_t m, bool accumulate) {
  thread_local ScratchBuffer a_buffer, b_buffer;
  const int64_t k = b.k, n = b.n, pairs = b.k_padded / 2;
  float* ra = a_buffer.get(static_cast<size_t>(std::max<int64_t>(1, m * k)));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < k; ++j) ra[i * k + j] = from_bf16(a.data[i * a.ld + j]);
  float* rb = b_buffer.get(static_cast<size_t>(std::max<int64_t>(1, k * n)));
  for (int64_t r = 0; r < k; ++r)
    for (int64_t j = 0; j < n; ++j) rb[r * n + j] = from_bf16(b.data[static_cast<size_t>((((j / 16) * pairs + r / 2) * 16 + j % 16) * 2 + r % 2)]);
  gemm({ra, k}, {rb, n}, c, ldc, m, k, n, accumulate);
}

}  // namespace

namespace {
// Rows 2p and 2p + 1 of a stored (not transposed) B, 16 columns from j: converted and
// interleaved into one 64-byte VNNI row (r0[0], r1[0], r0[1], r1[1], ...).
__attribute__((target("avx512f,avx512bw,avx512bf16"))) void interleave_pair_avx512_bf16(const float* r0, const float* r1,
                                                                                        __mmask16 lanes, uint16_t* dst) {
  const __m512i both = (__m512i)_mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(lanes, r1), _mm512_maskz_loadu_ps(lanes, r0));
  // both: r0's 16 bf16 in words 0-15, r1's in 16-31; word 2q <- r0[q], 2q + 1 <- r1[q].
  const __m512i order = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21, 5, 20,
                                         4, 19, 3, 18, 2, 17, 1, 16, 0);
  _mm512_storeu_si512(dst, _mm512_permutexvar_epi16(order, both));
}

// p sized for a (k x n) B and zeroed, keeping its storage.
void reset(PackedBf16Matrix& p, int64_t k, int64_t n) {
  p.k = k;
  p.n = n;
  p.k_padded = std::max<int64_t>(kKAlign, round_up(k, kKAlign));
  p.n_padded = std::max<int64_t>(kNAlign, round_up(n, kNAlign));  // blocks of 16 columns
  p.data.assign(static_cast<size_t>(p.k_padded * p.n_padded), 0);
}

}  // namespace

void pack_bf16_b_rows(const float* const* rows, int64_t k, int64_t n, PackedBf16Matrix& p) {
  reset(p, k, n);
  const int64_t pairs = p.k_padded / 2;
  static const float zeros[16] = {};
  if (cpu::features().avx512_bf16) {
    for (int64_t jb = 0; jb * 16 < n; ++jb) {
      const int64_t cols = std::min<int64_t>(16, n - jb * 16);
      const __mmask16 lanes = static_cast<__mmask16>((1u << cols) - 1u);
      for (int64_t q = 0; 2 * q < k; ++q) {
        const float* r0 = rows[2 * q] ? rows[2 * q] + jb * 16 : zeros;
        const float* r1 = 2 * q + 1 < k && rows[2 * q + 1] ? rows[2 * q + 1] + jb * 16 : zeros;
        interleave_pair_avx512_bf16(r0, r1, lanes, p.data.data() + (jb * pairs + q) * 32);
      }
    }
    return;
  }
  for (int64_t r = 0; r < k; ++r)
    if (rows[r])
      for (int64_t j = 0; j < n; ++j)
        p.data[static_cast<size_t>((((j / 16) * pairs + r / 2) * 16 + j % 16) * 2 + r % 2)] = to_bf16(rows[r][j]);
}

PackedBf16Matrix pack_bf16_b(GemmOperand b, int64_t k, int64_t n) {
  PackedBf16Matrix p;
  if (!b.transposed) {
    std::vector<const float*> rows(static_cast<size_t>(k));
    for (int64_t r = 0; r < k; ++r) rows[static_cast<size_t>(r)] = b.data + r * b.ld;
    pack_bf16_b_rows(rows.data(), k, n, p);
    return p;
  }
  // op(B) column j is stored row j, whose consecutive pairs (2q, 2q + 1) are the 32-bit entries
  // of the VNNI rows: convert the row, then place its pairs 16 entries apart.
  reset(p, k, n);
  const int64_t pairs = p.k_padded / 2;
  std::vector<uint16_t> row(static_cast<size_t>(p.k_padded), 0);
  for (int64_t j = 0; j < n; ++j) {
    convert_to_bf16(b.data + j * b.ld, k, row.data());
    uint16_t* dst = p.data.data() + ((j / 16) * pairs * 16 + j % 16) * 2;
    for (int64_t q = 0; 2 * q < k; ++q) {
      dst[q * 32] = row[static_cast<size_t>(2 * q)];
      dst[q * 32 + 1] = 2 * q + 1 < k ? row[static_cast<size_t>(2 * q + 1)] : uint16_t{0};
    }
  }
  return p;
}

void gemm_bf16(Bf16Rows a, const PackedBf16Matrix& b, float* c, int64_t ldc, int64_t m, bool accumulate, Bf16Isa isa) {
  if (m <= 0 || b.n <= 0) return;
  if (!bf16_isa_available(isa)) fail("gemm_bf16", std::string("this CPU cannot run ") + bf16_isa_name(isa));
  switch (isa) {
    case Bf16Isa::amx: return gemm_amx(a, b, c, ldc, m, accumulate);
    case Bf16Isa::avx512_bf16: return gemm_avx512_bf16(a, b, c, ldc, m, accumulate);
    default: return gemm_emulated(a, b, c, ldc, m, accumulate);
  }
}

void gemm_bf16(GemmOperand a, const PackedBf16Matrix& b, float* c, int64_t ldc, int64_t m, bool accumulate, Bf16Isa isa) {
  if (m <= 0 || b.n <= 0) return;
  gemm_bf16(Bf16Rows{pack_a(a, m, b.k, b.k_padded), b.k_padded}, b, c, ldc, m, accumulate, isa);
}

void matmul_bf16(const float* a, const float* b, float* c, int64_t batch, int64_t m, int64_t k, int64_t n, bool trans_a,
                 bool trans_b, bool shared_b) {
  const Bf16Isa isa = bf16_isa();
  // One B for every row: the batch folded into the rows (or a single item), cut into blocks.
  if ((shared_b && !trans_a) || batch == 1) {
    const PackedBf16Matrix packed = pack_bf16_b({b, trans_b ? k : n, trans_b}, k, n);
    constexpr int64_t kRowsPerTask = 128;
    const int64_t rows = shared_b && !trans_a ? batch * m : m;
    parallel_chunks(rows, kRowsPerTask, [&](int64_t, int64_t r0, int64_t r1) {
      const GemmOperand block = trans_a ? GemmOperand{a + r0, m, true} : GemmOperand{a + r0 * k, k};
      gemm_bf16(block, packed, c + r0 * n, n, r1 - r0, false, isa);
    });
    return;
  }
  parallel_for(0, batch, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const float* bi = shared_b ? b : b + i * k * n;
      const PackedBf16Matrix packed = pack_bf16_b({bi, trans_b ? k : n, trans_b}, k, n);
      gemm_bf16({a + i * m * k, trans_a ? m : k, trans_a}, packed, c + i * m * n, n, m, false, isa);
    }
  });
}

}  // namespace tapegrad
