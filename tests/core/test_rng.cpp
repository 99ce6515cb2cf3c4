// Rng: Philox4x32-10 known answers (an independent implementation and the Random123 vector),
// reproducibility, exact state save/restore, thread-count independence of bulk fills, and
// distribution checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "../error_matchers.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/parallel.h"
#include "tapegrad/core/rng.h"

namespace tg = tapegrad;

namespace {


// ---- An independent Philox4x32-10, written from the Random123 description ----
struct Philox4x32Ref {
  static constexpr uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;
  static constexpr uint32_t W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;

  static void mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
    const uint64_t p = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
    hi = static_cast<uint32_t>(p >> 32);
    lo = static_cast<uint32_t>(p & 0xFFFFFFFFu);
  }

  // One round: (c0, c1, c2, c3) -> (hi(M1*c2) ^ c1 ^ k0, lo(M1*c2), hi(M0*c0) ^ c3 ^ k1, lo(M0*c0)).
  static std::array<uint32_t, 4> round(const std::array<uint32_t, 4>& c, const std::array<uint32_t, 2>& k) {
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo(M0, c[0], hi0, lo0);
    mulhilo(M1, c[2], hi1, lo1);
    return {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
  }

  static std::array<uint32_t, 4> run(std::array<uint32_t, 4> ctr, std::array<uint32_t, 2> key) {
    // Round 1 uses the key itself; the key is bumped by the Weyl constants before each later round.
    ctr = round(ctr, key);
    for (int r = 1; r < 10; ++r) {
      key[0] += W0;
      key[1] += W1;
      ctr = round(ctr, key);
    }
    return ctr;
  }

  static std::array<uint32_t, 4> block(uint64_t key, uint64_t counter) {
    return run({static_cast<uint32_t>(counter & 0xFFFFFFFFu), static_cast<uint32_t>(counter >> 32), 0u, 0u},
               {static_cast<uint32_t>(key & 0xFFFFFFFFu), static_cast<uint32_t>(key >> 32)});
  }
};

// Restores the thread limit when a test ends, even on an early return.
struct ThreadGuard {
  int saved = tg::num_threads();
  ~ThreadGuard() { tg::set_num_threads(saved); }
};

}  // namespace

TEST(Rng, PhiloxKnownAnswerRandom123) {
  // Random123 kat_vectors: philox4x32 10, counter {0, 0, 0, 0}, key {0, 0}.
  const std::array<uint32_t, 4> expect = {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u};
  EXPECT_EQ(Philox4x32Ref::block(0, 0), expect);  // the reference implementation itself is right
  EXPECT_EQ(tg::Rng::block(0, 0), expect);
}

TEST(Rng, PhiloxMatchesIndependentImplementation) {
  const uint64_t keys[] = {0, 1, 42, 0xFFFFFFFFull, 0x100000000ull, 0x123456789ABCDEF0ull, ~0ull};
  const uint64_t counters[] = {0, 1, 2, 3, 1000, 0xFFFFFFFFull, 0x100000000ull, 0xFEDCBA9876543210ull, ~0ull};
  for (uint64_t k : keys)
    for (uint64_t c : counters)
      EXPECT_EQ(tg::Rng::block(k, c), Philox4x32Ref::block(k, c)) << "key " << k << " counter " << c;
}

TEST(Rng, BulkBlocksEqualSingleBlocks) {
  // The vector path (16 blocks at a time) and the scalar tail, across a carry into the
  // counter's high word.
  for (const uint64_t key : {uint64_t{0}, uint64_t{0xDEADBEEFCAFEF00Dull}})
    for (const uint64_t start : {uint64_t{0}, uint64_t{0xFFFFFFFFull} - 20, uint64_t{1} << 50}) {
      const int64_t n = 53;
      std::vector<uint32_t> words(4 * n);
      tg::Rng::blocks(key, start, n, words.data());
      for (int64_t j = 0; j < n; ++j) {
        const auto want = Philox4x32Ref::block(key, start + static_cast<uint64_t>(j));
        for (int w = 0; w < 4; ++w) ASSERT_EQ(words[4 * j + w], want[w]) << "key " << key << " block " << start + j;
      }
    }
}

TEST(Rng, NextU32IsWordZeroOfConsecutiveBlocks) {
  tg::Rng r(77);
  for (uint64_t i = 0; i < 100; ++i) {
    EXPECT_EQ(r.state().counter, i);
    EXPECT_EQ(r.next_u32(), Philox4x32Ref::block(77, i)[0]) << i;
  }
  EXPECT_EQ(r.state(), (tg::Rng::State{77, 100}));
}

TEST(Rng, DefaultSeedIsZero) {
  tg::Rng r;
  EXPECT_EQ(r.state(), (tg::Rng::State{0, 0}));
  EXPECT_EQ(r.next_u32(), 0x6627e8d5u);
}

TEST(Rng, SameSeedSameStream) {
  tg::Rng a(2024), b(2024);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(a.next_u32(), b.next_u32()) << i;
    ASSERT_EQ(a.uniform(), b.uniform()) << i;
    ASSERT_EQ(a.uniform_int(1000), b.uniform_int(1000)) << i;
    const float na = a.normal(), nb = b.normal();
    ASSERT_EQ(0, std::memcmp(&na, &nb, sizeof(float))) << i;
  }
  EXPECT_EQ(a.state(), b.state());
  std::vector<float> fa(1001), fb(1001);
  a.fill_normal(fa.data(), 1001, 0.0f, 1.0f);
  b.fill_normal(fb.data(), 1001, 0.0f, 1.0f);
  EXPECT_EQ(0, std::memcmp(fa.data(), fb.data(), sizeof(float) * fa.size()));
}

TEST(Rng, DifferentSeedsDiffer) {
  tg::Rng a(1), b(2);
  int same = 0;
  for (int i = 0; i < 1000; ++i) same += a.next_u32() == b.next_u32();
  EXPECT_LT(same, 3);
  tg::Rng c(0), d(uint64_t{1} << 32);  // seeds differing only in the high key word
  same = 0;
  for (int i = 0; i < 1000; ++i) same += c.next_u32() == d.next_u32();
  EXPECT_LT(same, 3);
  std::vector<float> x(1000), y(1000);
  tg::Rng(5).fill_uniform(x.data(), 1000, 0.0f, 1.0f);
  tg::Rng(6).fill_uniform(y.data(), 1000, 0.0f, 1.0f);
  same = 0;
  for (int i = 0; i < 1000; ++i) same += x[i] == y[i];
  EXPECT_LT(same, 5);
}

TEST(Rng, StateRestoreResumesExactly) {
  tg::Rng r(99);
  for (int i = 0; i < 17; ++i) r.next_u32();
  std::vector<float> scratch(10);
  r.fill_uniform(scratch.data(), 10, 0.0f, 1.0f);  // consumes ceil(10 / 4) = 3 blocks
  EXPECT_EQ(r.state(), (tg::Rng::State{99, 20}));
  const tg::Rng::State saved = r.state();

  // The draws that follow without any restore.
  std::vector<uint32_t> u;
  std::vector<double> d;
  std::vector<float> fill(37), nfill(21);
  for (int i = 0; i < 5; ++i) u.push_back(r.next_u32());
  for (int i = 0; i < 5; ++i) d.push_back(r.uniform());
  const uint64_t ui = r.uniform_int(12345);
  const float nv = r.normal(1.0f, 2.0f);
  r.fill_uniform(fill.data(), 37, -1.0f, 1.0f);
  r.fill_normal(nfill.data(), 21, 0.0f, 1.0f);
  const tg::Rng::State end = r.state();

  // Wander off, then restore on the same generator and on a fresh one.
  for (int i = 0; i < 50; ++i) r.next_u32();
  tg::Rng fresh(12345);
  for (tg::Rng* g : {&r, &fresh}) {
    g->set_state(saved);
    EXPECT_EQ(g->state(), saved);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(g->next_u32(), u[i]);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(g->uniform(), d[i]);
    EXPECT_EQ(g->uniform_int(12345), ui);
    const float nv2 = g->normal(1.0f, 2.0f);
    EXPECT_EQ(0, std::memcmp(&nv, &nv2, sizeof(float)));
    std::vector<float> fill2(37), nfill2(21);
    g->fill_uniform(fill2.data(), 37, -1.0f, 1.0f);
    g->fill_normal(nfill2.data(), 21, 0.0f, 1.0f);
    EXPECT_EQ(0, std::memcmp(fill.data(), fill2.data(), sizeof(float) * 37));
    EXPECT_EQ(0, std::memcmp(nfill.data(), nfill2.data(), sizeof(float) * 21));
    EXPECT_EQ(g->state(), end);
  }
}

TEST(Rng, FillConsumesCeilNOver4Blocks) {
  for (int64_t n : {0, 1, 3, 4, 5, 8, 9, 16385, 100000}) {
    tg::Rng r(3);
    r.set_state({3, 10});
    std::vector<float> v(static_cast<size_t>(std::max<int64_t>(n, 1)));
    r.fill_uniform(v.data(), n, 0.0f, 1.0f);
    EXPECT_EQ(r.state().counter, 10u + static_cast<uint64_t>((n + 3) / 4)) << "uniform n=" << n;
    r.fill_normal(v.data(), n, 0.0f, 1.0f);
    EXPECT_EQ(r.state().counter, 10u + 2 * static_cast<uint64_t>((n + 3) / 4)) << "normal n=" << n;
  }
}

TEST(Rng, FillElementIComesFromBlockCounterPlusIOver4) {
  // A fill of n equals fills of 4 elements at consecutive counters (each of which uses one block).
  const int64_t n = 1003;
  for (int kind = 0; kind < 2; ++kind) {
    tg::Rng whole(8);
    whole.set_state({8, 5});
    std::vector<float> all(n);
    if (kind == 0)
      whole.fill_uniform(all.data(), n, -3.0f, 2.0f);
    else
      whole.fill_normal(all.data(), n, 1.0f, 0.5f);
    tg::Rng piece(8);
    for (int64_t i = 0; i < n; i += 4) {
      piece.set_state({8, 5 + static_cast<uint64_t>(i / 4)});
      float four[4];
      const int64_t m = std::min<int64_t>(4, n - i);
      if (kind == 0)
        piece.fill_uniform(four, m, -3.0f, 2.0f);
      else
        piece.fill_normal(four, m, 1.0f, 0.5f);
      ASSERT_EQ(0, std::memcmp(four, all.data() + i, sizeof(float) * m)) << "kind " << kind << " at " << i;
    }
  }
  // And the uniform fill uses the block's words, 24 bits each: element i = (word >> 8) / 2^24.
  tg::Rng r(8);
  std::vector<float> u(64);
  r.fill_uniform(u.data(), 64, 0.0f, 1.0f);
  for (int i = 0; i < 64; ++i) {
    const uint32_t w = Philox4x32Ref::block(8, static_cast<uint64_t>(i / 4))[i % 4];
    EXPECT_EQ(u[i], static_cast<float>(w >> 8) / 16777216.0f) << i;
  }
}

TEST(Rng, FillsDoNotDependOnThreadCount) {
  ThreadGuard guard;
  const int64_t n = 100000;
  std::vector<float> u1(n), u2(n), g1(n), g2(n);
  tg::set_num_threads(1);
  {
    tg::Rng r(31337);
    r.fill_uniform(u1.data(), n, -2.0f, 5.0f);
    r.fill_normal(g1.data(), n, 0.5f, 3.0f);
  }
  tg::set_num_threads(2);
  {
    tg::Rng r(31337);
    r.fill_uniform(u2.data(), n, -2.0f, 5.0f);
    r.fill_normal(g2.data(), n, 0.5f, 3.0f);
  }
  EXPECT_EQ(0, std::memcmp(u1.data(), u2.data(), sizeof(float) * n));
  EXPECT_EQ(0, std::memcmp(g1.data(), g2.data(), sizeof(float) * n));
  // A serial reference: the same values drawn 4 at a time (one block per call, never split).
  tg::Rng serial(31337);
  for (int64_t i = 0; i < n; i += 4) {
    float four[4];
    serial.fill_uniform(four, 4, -2.0f, 5.0f);
    ASSERT_EQ(0, std::memcmp(four, u2.data() + i, sizeof(four))) << i;
  }
}

TEST(Rng, UniformRange) {
  tg::Rng r(4);
  double s = 0;
  std::set<double> distinct;
  for (int i = 0; i < 100000; ++i) {
    const double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    s += u;
    if (i < 1000) distinct.insert(u);
  }
  EXPECT_NEAR(s / 100000, 0.5, 0.005);
  EXPECT_EQ(distinct.size(), 1000u);
  std::vector<float> f(100000);
  r.fill_uniform(f.data(), 100000, 10.0f, 10.5f);
  double fs = 0;
  for (float v : f) {
    ASSERT_GE(v, 10.0f);
    ASSERT_LT(v, 10.5f);
    fs += v;
  }
  EXPECT_NEAR(fs / 100000, 10.25, 0.003);
}

TEST(Rng, UniformIntRangeAndChiSquare) {
  tg::Rng r(5);
  const int draws = 100000, buckets = 10;
  std::vector<int> count(buckets, 0);
  for (int i = 0; i < draws; ++i) {
    const uint64_t v = r.uniform_int(buckets);
    ASSERT_LT(v, static_cast<uint64_t>(buckets));
    ++count[v];
  }
  double chi2 = 0;
  const double expect = static_cast<double>(draws) / buckets;
  for (int c : count) chi2 += (c - expect) * (c - expect) / expect;
  EXPECT_LT(chi2, 40.0);  // 9 degrees of freedom: P(chi2 > 40) ~ 1e-5
  for (int c : count) EXPECT_GT(c, 0);
  // n = 3 (not a power of two) and a big n.
  std::vector<int> three(3, 0);
  for (int i = 0; i < 30000; ++i) ++three[r.uniform_int(3)];
  for (int c : three) EXPECT_NEAR(c, 10000, 500);
  const uint64_t big = (uint64_t{1} << 40) + 7;
  bool high_half = false;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t v = r.uniform_int(big);
    ASSERT_LT(v, big);
    high_half = high_half || v >= big / 2;
  }
  EXPECT_TRUE(high_half);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(r.uniform_int(1), 0u);
}

TEST(Rng, UniformIntZeroThrows) {
  tg::Rng r(0);
  EXPECT_TG_ERROR(r.uniform_int(0), "Rng::uniform_int", "n");
}

TEST(Rng, NormalMeanAndStd) {
  tg::Rng r(6);
  const int n = 100000;
  double s = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    const double v = r.normal(5.0f, 3.0f);
    ASSERT_TRUE(std::isfinite(v));
    s += v;
    s2 += v * v;
  }
  const double mean = s / n, sd = std::sqrt(s2 / n - mean * mean);
  EXPECT_NEAR(mean, 5.0, 0.04);  // standard error 3/sqrt(1e5) = 0.0095
  EXPECT_NEAR(sd, 3.0, 0.04);
  std::vector<float> f(n);
  r.fill_normal(f.data(), n, -1.0f, 0.5f);
  s = s2 = 0;
  int tails = 0;
  for (float v : f) {
    ASSERT_TRUE(std::isfinite(v));
    s += v;
    s2 += static_cast<double>(v) * v;
    tails += std::fabs(v + 1.0f) > 1.0f;  // beyond 2 standard deviations
  }
  const double fmean = s / n, fsd = std::sqrt(s2 / n - fmean * fmean);
  EXPECT_NEAR(fmean, -1.0, 0.007);
  EXPECT_NEAR(fsd, 0.5, 0.007);
  EXPECT_NEAR(tails / static_cast<double>(n), 0.0455, 0.004);
}

TEST(Rng, DefaultRngAndManualSeed) {
  EXPECT_EQ(&tg::default_rng(), &tg::default_rng());
  tg::manual_seed(1234);
  EXPECT_EQ(tg::default_rng().state(), (tg::Rng::State{1234, 0}));
  tg::Rng ref(1234);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(tg::default_rng().next_u32(), ref.next_u32());
  EXPECT_EQ(tg::default_rng().state(), (tg::Rng::State{1234, 10}));
  tg::manual_seed(1234);  // restarts the stream
  tg::Rng ref2(1234);
  EXPECT_EQ(tg::default_rng().next_u32(), ref2.next_u32());
  tg::manual_seed(99);
  EXPECT_EQ(tg::default_rng().state(), (tg::Rng::State{99, 0}));
}
