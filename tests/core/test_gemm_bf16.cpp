// bf16 conversion and the bf16 GEMM kernels (core/gemm_bf16.cpp) on every instruction set this
// machine has: AVX512-BF16 against a plain loop that sums in its documented order (bit-exact),
// and every kernel, AMX and the emulation included, against float64 sums of the rounded
// operands within float32 accumulation's bound.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/cpu_features.h"
#include "core/gemm_bf16.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/rng.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace tg = tapegrad;
using tg::Bf16Isa;

namespace {

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

std::vector<Bf16Isa> available_isas() {
  std::vector<Bf16Isa> isas;
  for (Bf16Isa isa : {Bf16Isa::emulated, Bf16Isa::avx512_bf16, Bf16Isa::amx})
    if (tg::bf16_isa_available(isa)) isas.push_back(isa);
  return isas;
}

}  // namespace

TEST(Bf16, RoundsToNearestEvenAndKeepsSpecials) {
  EXPECT_EQ(tg::to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(tg::to_bf16(-2.0f), 0xC000);
  EXPECT_EQ(tg::to_bf16(1.0f + 0x1p-8f), 0x3F80) << "a tie goes to the even mantissa (down)";
  EXPECT_EQ(tg::to_bf16(1.0f + 3 * 0x1p-8f), 0x3F82) << "a tie goes to the even mantissa (up)";
  EXPECT_EQ(tg::to_bf16(1.0f + 0x1p-8f + 0x1p-20f), 0x3F81) << "above the tie rounds up";
  EXPECT_EQ(tg::to_bf16(std::numeric_limits<float>::infinity()), 0x7F80);
  EXPECT_EQ(tg::to_bf16(std::numeric_limits<float>::max()), 0x7F80) << "rounds up past the largest bf16";
  EXPECT_TRUE(std::isnan(tg::from_bf16(tg::to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_TRUE(std::isnan(tg::from_bf16(tg::to_bf16(from_bits(0x7F800001u))))) << "a NaN whose payload would round away";
  EXPECT_EQ(tg::to_bf16(from_bits(0x00400000u)), 0x0000) << "denormals flush to zero";
  EXPECT_EQ(tg::to_bf16(from_bits(0x80400000u)), 0x8000) << "keeping their sign";
  EXPECT_EQ(tg::round_to_bf16(3.14159265f), 3.140625f);
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bf16"))) static void hardware_convert(const float* in, uint16_t* out) {
  const __m256bh r = _mm512_cvtneps_pbh(_mm512_loadu_ps(in));
  std::memcpy(out, &r, 32);
}
#endif

TEST(Bf16, ConversionMatchesTheHardwareBitForBit) {
#if defined(__x86_64__)
  if (!tg::cpu::features().avx512_bf16) GTEST_SKIP() << "no AVX512-BF16 on this CPU";
  tg::Rng rng(7);
  std::vector<float> in(1 << 16);
  for (size_t i = 0; i < in.size(); ++i) {
    uint32_t u = rng.next_u32();
    if (i % 4 == 1) u &= 0x807FFFFFu;                // denormals
    if (i % 4 == 2) u = (u & 0xFFFF0000u) | 0x8000u;  // exact ties
    if (i % 64 == 3) u |= 0x7F800000u;                // infinities and NaNs
    in[i] = from_bits(u);
  }
  std::vector<uint16_t> hw(in.size());
  for (size_t i = 0; i < in.size(); i += 16) hardware_convert(in.data() + i, hw.data() + i);
  for (size_t i = 0; i < in.size(); ++i) {
    const uint16_t mine = tg::to_bf16(in[i]);
    if (std::isnan(in[i])) {
      EXPECT_TRUE(std::isnan(tg::from_bf16(hw[i])) && std::isnan(tg::from_bf16(mine))) << std::hex << bits(in[i]);
    } else {
      ASSERT_EQ(mine, hw[i]) << "input bits 0x" << std::hex << bits(in[i]);
    }
  }
#else
  GTEST_SKIP() << "not x86-64";
#endif
}

// The array conversions (VCVTNE(2)PS2BF16 where the CPU has it, with a scalar tail) against the
// scalar ones, on lengths that leave tails, with denormals, ties, infinities and NaNs.
TEST(Bf16, ArrayConversionsMatchTheScalarOnes) {
  tg::Rng rng(11);
  for (int64_t n : {1, 15, 16, 33, 1000}) {
    std::vector<float> in(static_cast<size_t>(n));
    for (size_t i = 0; i < in.size(); ++i) {
      uint32_t u = rng.next_u32();
      if (i % 4 == 1) u &= 0x807FFFFFu;
      if (i % 4 == 2) u = (u & 0xFFFF0000u) | 0x8000u;
      if (i % 16 == 3) u |= 0x7F800000u;
      in[i] = from_bits(u);
    }
    std::vector<float> rounded(in.size());
    std::vector<uint16_t> converted(in.size());
    tg::round_to_bf16(in.data(), n, rounded.data());
    tg::convert_to_bf16(in.data(), n, converted.data());
    for (size_t i = 0; i < in.size(); ++i) {
      if (std::isnan(in[i])) {
        EXPECT_TRUE(std::isnan(rounded[i]) && std::isnan(tg::from_bf16(converted[i]))) << i;
        continue;
      }
      ASSERT_EQ(bits(rounded[i]), bits(tg::round_to_bf16(in[i]))) << "n " << n << ", input bits 0x" << std::hex << bits(in[i]);
      ASSERT_EQ(converted[i], tg::to_bf16(in[i])) << "n " << n << ", input bits 0x" << std::hex << bits(in[i]);
    }
  }
}

namespace {

struct Problem {
  int64_t m, k, n;
  bool ta, tb, accumulate;
};

// C0 + sum over pairs of k in the given order, in float32 (products of bf16 values are exact).
std::vector<float> ordered_reference(const std::vector<float>& a, const std::vector<float>& b, const std::vector<float>& c0,
                                     const Problem& p, bool odd_first) {
  std::vector<float> c(static_cast<size_t>(p.m * p.n));
  for (int64_t i = 0; i < p.m; ++i)
    for (int64_t j = 0; j < p.n; ++j) {
      auto prod = [&](int64_t r) {
        if (r >= p.k) return 0.0f;
        const float x = p.ta ? a[r * p.m + i] : a[i * p.k + r], y = p.tb ? b[j * p.k + r] : b[r * p.n + j];
        return tg::round_to_bf16(x) * tg::round_to_bf16(y);
      };
      float s = 0.0f;
      for (int64_t r = 0; r < p.k; r += 2) {
        s += odd_first ? prod(r + 1) : prod(r);
        s += odd_first ? prod(r) : prod(r + 1);
      }
      c[i * p.n + j] = p.accumulate ? c0[i * p.n + j] + s : s;
    }
  return c;
}

}  // namespace

TEST(GemmBf16, EveryKernelMatchesItsOrderOfSumsAndTheFloat64Bound) {
  const std::vector<Problem> problems = {
      {1, 1, 1, false, false, false},   {13, 37, 45, false, false, false}, {40, 70, 33, true, false, true},
      {64, 128, 64, false, true, false}, {33, 96, 17, true, true, true},   {12, 288, 32, false, false, false},
  };
  tg::Rng rng(3);
  for (const Problem& p : problems) {
    std::vector<float> a(static_cast<size_t>(p.m * p.k)), b(static_cast<size_t>(p.k * p.n)), c0(static_cast<size_t>(p.m * p.n));
    for (float& v : a) v = static_cast<float>(rng.uniform() * 4.0 - 2.0);
    for (float& v : b) v = static_cast<float>(rng.uniform() * 4.0 - 2.0);
    for (float& v : c0) v = static_cast<float>(rng.uniform() * 4.0 - 2.0);
    const tg::GemmOperand ga{a.data(), p.ta ? p.m : p.k, p.ta}, gb{b.data(), p.tb ? p.k : p.n, p.tb};
    const tg::PackedBf16Matrix packed = tg::pack_bf16_b(gb, p.k, p.n);
    for (Bf16Isa isa : available_isas()) {
      std::vector<float> c = c0;
      tg::gemm_bf16(ga, packed, c.data(), p.n, p.m, p.accumulate, isa);
      const std::string what = std::string(tg::bf16_isa_name(isa)) + " " + std::to_string(p.m) + "x" + std::to_string(p.k) +
                               "x" + std::to_string(p.n);
      // VDPBF16PS sums exactly as Intel documents it. TDPBF16PS does not (measured on an
      // Emerald Rapids-class Xeon: about 30% of sums differ by an ulp from every sequential
      // order tried), so AMX is held to the float64 bound only.
      if (isa == Bf16Isa::avx512_bf16) {
        const std::vector<float> want = ordered_reference(a, b, c0, p, /*odd_first=*/true);
        for (size_t i = 0; i < c.size(); ++i) ASSERT_EQ(bits(c[i]), bits(want[i])) << what << " element " << i;
      }
      // Against float64: float32 sums of k terms err by at most about k * 2^-24 * sum |terms|.
      for (int64_t i = 0; i < p.m; ++i)
        for (int64_t j = 0; j < p.n; ++j) {
          double exact = p.accumulate ? c0[i * p.n + j] : 0.0, magnitude = std::abs(exact);
          for (int64_t r = 0; r < p.k; ++r) {
            const double x = tg::round_to_bf16(p.ta ? a[r * p.m + i] : a[i * p.k + r]);
            const double y = tg::round_to_bf16(p.tb ? b[j * p.k + r] : b[r * p.n + j]);
            exact += x * y;
            magnitude += std::abs(x * y);
          }
          ASSERT_LE(std::abs(c[i * p.n + j] - exact), (p.k + 1) * 0x1p-24 * magnitude) << what << " at " << i << "," << j;
        }
    }
  }
}

TEST(GemmBf16, RefusesAnInstructionSetTheCpuLacks) {
  for (Bf16Isa isa : {Bf16Isa::avx512_bf16, Bf16Isa::amx}) {
    if (tg::bf16_isa_available(isa)) continue;
    EXPECT_THROW(tg::set_bf16_isa(isa), tg::Error);
  }
  EXPECT_EQ(tg::bf16_isa(), tg::best_bf16_isa());
  tg::set_bf16_isa(Bf16Isa::emulated);
  EXPECT_EQ(tg::bf16_isa(), Bf16Isa::emulated);
  tg::set_bf16_isa(tg::best_bf16_isa());
  EXPECT_STREQ(tg::bf16_isa_name(Bf16Isa::amx), "amx");
}
