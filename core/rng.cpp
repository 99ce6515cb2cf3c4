#include "tapegrad/core/rng.h"

#include <cmath>

#if defined(__AVX512F__)
// GCC 12's shift and multiply intrinsics start from _mm512_undefined_epi32() and trip
// -Wmaybe-uninitialized inside the header (a false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#endif

#include "tapegrad/core/error.h"
#include "tapegrad/core/parallel.h"

namespace tapegrad {

namespace {

constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
constexpr int64_t kFillChunk = 1 << 14;  // elements per parallel chunk; a multiple of 4

// 24 random bits -> [0, 1) and (0, 1].
inline float unit_open_high(uint32_t u) { return static_cast<float>(u >> 8) * (1.0f / 16777216.0f); }
inline float unit_open_low(uint32_t u) { return static_cast<float>((u >> 8) + 1) * (1.0f / 16777216.0f); }

}  // namespace

std::array<uint32_t, 4> Rng::block(uint64_t key, uint64_t counter) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(kMul0) * c0;
    const uint64_t p1 = static_cast<uint64_t>(kMul1) * c2;
    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    c1 = static_cast<uint32_t>(p1);
    c3 = static_cast<uint32_t>(p0);
    c0 = n0;
    c2 = n2;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return {c0, c1, c2, c3};
}

#if defined(__AVX512F__)
namespace {
// The high and low halves of the 32x32-bit products a * m in every lane (mul_epu32 multiplies
// the even lanes; the odd ones are shifted down for a second multiply).
inline void mul_hi_lo(__m512i a, __m512i m, __m512i& hi, __m512i& lo) {
  const __m512i even = _mm512_mul_epu32(a, m);
  const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
  hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
  lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
}
}  // namespace
#endif

void Rng::blocks(uint64_t key, uint64_t counter, int64_t n, uint32_t* words) {
  int64_t j = 0;
#if defined(__AVX512F__)
  alignas(64) uint32_t lanes[4][16];
  const __m512i m0 = _mm512_set1_epi32(static_cast<int>(kMul0)), m1 = _mm512_set1_epi32(static_cast<int>(kMul1));
  for (; j + 16 <= n; j += 16) {
    for (int l = 0; l < 16; ++l) {
      const uint64_t c = counter + static_cast<uint64_t>(j + l);
      lanes[0][l] = static_cast<uint32_t>(c);
      lanes[1][l] = static_cast<uint32_t>(c >> 32);
    }
    __m512i c0 = _mm512_load_si512(lanes[0]), c1 = _mm512_load_si512(lanes[1]);
    __m512i c2 = _mm512_setzero_si512(), c3 = _mm512_setzero_si512();
    uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
    for (int round = 0; round < 10; ++round) {
      __m512i hi0, lo0, hi1, lo1;
      mul_hi_lo(c0, m0, hi0, lo0);
      mul_hi_lo(c2, m1, hi1, lo1);
      const __m512i n0 = _mm512_xor_si512(_mm512_xor_si512(hi1, c1), _mm512_set1_epi32(static_cast<int>(k0)));
      const __m512i n2 = _mm512_xor_si512(_mm512_xor_si512(hi0, c3), _mm512_set1_epi32(static_cast<int>(k1)));
      c1 = lo1;
      c3 = lo0;
      c0 = n0;
      c2 = n2;
      k0 += kWeyl0;
      k1 += kWeyl1;
    }
    _mm512_store_si512(lanes[0], c0);
    _mm512_store_si512(lanes[1], c1);
    _mm512_store_si512(lanes[2], c2);
    _mm512_store_si512(lanes[3], c3);
    for (int l = 0; l < 16; ++l)
      for (int w = 0; w < 4; ++w) words[4 * (j + l) + w] = lanes[w][l];
  }
#endif
  for (; j < n; ++j) {
    const auto b = block(key, counter + static_cast<uint64_t>(j));
    for (int w = 0; w < 4; ++w) words[4 * j + w] = b[static_cast<size_t>(w)];
  }
}

uint32_t Rng::next_u32() { return block(seed_, counter_++)[0]; }

double Rng::uniform() {
  const auto b = block(seed_, counter_++);
  const uint64_t bits = (static_cast<uint64_t>(b[0]) << 21) ^ (b[1] >> 11);  // 53 bits
  return static_cast<double>(bits & ((uint64_t{1} << 53) - 1)) * 0x1.0p-53;
}

uint64_t Rng::uniform_int(uint64_t n) {
  if (n == 0) fail("Rng::uniform_int", "n must be at least 1");
  // Rejection sampling on 64 bits keeps the draw unbiased.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  for (;;) {
    const auto b = block(seed_, counter_++);
    const uint64_t x = (static_cast<uint64_t>(b[0]) << 32) | b[1];
    if (x < limit) return x % n;
  }
}

float Rng::normal(float mean, float stddev) {
  const auto b = block(seed_, counter_++);
  const float r = std::sqrt(-2.0f * std::log(unit_open_low(b[0])));
  return mean + stddev * r * std::cos(6.28318530717958647692f * unit_open_high(b[1]));
}

void Rng::fill_uniform(float* out, int64_t n, float low, float high) {
  const uint64_t key = seed_, base = counter_;
  const float scale = high - low;
  parallel_chunks(n, kFillChunk, [&](int64_t, int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; i += 4) {
      const auto b = block(key, base + static_cast<uint64_t>(i / 4));
      for (int64_t j = 0; j < 4 && i + j < hi; ++j) {
        // Rounding can land exactly on `high`; keep the interval half-open.
        const float v = low + scale * unit_open_high(b[j]);
        out[i + j] = v < high ? v : low;
      }
    }
  });
  counter_ += static_cast<uint64_t>((n + 3) / 4);
}

void Rng::fill_normal(float* out, int64_t n, float mean, float stddev) {
  const uint64_t key = seed_, base = counter_;
  constexpr float kTwoPi = 6.28318530717958647692f;
  parallel_chunks(n, kFillChunk, [&](int64_t, int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; i += 4) {
      const auto b = block(key, base + static_cast<uint64_t>(i / 4));
      // Box-Muller: two pairs of uniforms give four normals.
      float z[4];
      for (int p = 0; p < 2; ++p) {
        const float r = std::sqrt(-2.0f * std::log(unit_open_low(b[2 * p])));
        const float theta = kTwoPi * unit_open_high(b[2 * p + 1]);
        z[2 * p] = r * std::cos(theta);
        z[2 * p + 1] = r * std::sin(theta);
      }
      for (int64_t j = 0; j < 4 && i + j < hi; ++j) out[i + j] = mean + stddev * z[j];
    }
  });
  counter_ += static_cast<uint64_t>((n + 3) / 4);
}

}  // namespace tapegrad

namespace tapegrad {

Rng& default_rng() {
  static Rng rng(0x7a9e'67ad);
  return rng;
}

void manual_seed(uint64_t seed) { default_rng() = Rng(seed); }

}  // namespace tapegrad
