// Parallel helpers: coverage of parallel_for, the fixed cut points of parallel_chunks, the
// bit-for-bit determinism of deterministic_sum, and the thread limit.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../error_matchers.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/parallel.h"

namespace tg = tapegrad;

namespace {


struct ThreadGuard {
  int saved = tg::num_threads();
  ~ThreadGuard() { tg::set_num_threads(saved); }
};

// Runs parallel_for over [begin, end) and checks every index is visited exactly once and every
// sub-range is non-empty and inside the range.
void check_coverage(int64_t begin, int64_t end, int64_t grain) {
  std::ostringstream trace;
  trace << "[" << begin << ", " << end << ") grain " << grain;
  SCOPED_TRACE(trace.str());
  const int64_t n = std::max<int64_t>(end - begin, 0);
  std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
  for (auto& h : hits) h.store(0);
  std::atomic<int> bad_ranges{0}, calls{0};
  tg::parallel_for(begin, end, grain, [&](int64_t lo, int64_t hi) {
    calls.fetch_add(1);
    if (!(begin <= lo && lo < hi && hi <= end)) {
      bad_ranges.fetch_add(1);
      return;
    }
    for (int64_t i = lo; i < hi; ++i) hits[static_cast<size_t>(i - begin)].fetch_add(1);
  });
  EXPECT_EQ(bad_ranges.load(), 0);
  int wrong = 0;
  for (int64_t i = 0; i < n && wrong < 10; ++i)
    if (hits[i].load() != 1) {
      ++wrong;
      ADD_FAILURE() << "index " << begin + i << " visited " << hits[i].load() << " times";
    }
  if (n == 0) {
    EXPECT_EQ(calls.load(), 0);
  }
}

}  // namespace

TEST(Parallel, ParallelForCoversEveryIndexOnce) {
  ThreadGuard guard;
  for (int threads : {1, 2}) {
    tg::set_num_threads(threads);
    SCOPED_TRACE("threads " + std::to_string(threads));
    for (int64_t grain : {1, 2, 7, 64, 1000, 4096, 100000, 200000})
      for (auto [b, e] : std::vector<std::pair<int64_t, int64_t>>{{0, 100000}, {13, 10013}, {5, 6}, {0, 3}, {-50, 50}})
        check_coverage(b, e, grain);
  }
}

TEST(Parallel, ParallelForEmptyRangeAndBadGrain) {
  check_coverage(0, 0, 1);
  check_coverage(10, 5, 1);  // end < begin: nothing
  check_coverage(0, 1000, 0);   // grain < 1 acts as 1
  check_coverage(0, 1000, -5);
}

TEST(Parallel, ParallelForSmallRangeRunsInline) {
  // A range no larger than the grain is one call on the calling thread.
  const auto caller = std::this_thread::get_id();
  int calls = 0;
  std::thread::id seen;
  tg::parallel_for(3, 50, 100, [&](int64_t lo, int64_t hi) {
    ++calls;
    seen = std::this_thread::get_id();
    EXPECT_EQ(lo, 3);
    EXPECT_EQ(hi, 50);
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen, caller);
}

TEST(Parallel, ParallelForSubRangesAreAtLeastHalfTheGrain) {
  // parallel.h: sub-ranges of roughly `grain` indices; TBB may halve a range down to grain / 2.
  ThreadGuard guard;
  tg::set_num_threads(2);
  for (int64_t grain : {10, 100, 1000}) {
    for (int64_t n : {grain + 1, grain * 3 / 2, grain * 2 - 1, grain * 5 + 3, grain * 64}) {
      std::mutex m;
      int64_t smallest = n;
      tg::parallel_for(0, n, grain, [&](int64_t lo, int64_t hi) {
        std::lock_guard<std::mutex> lock(m);
        smallest = std::min(smallest, hi - lo);
      });
      EXPECT_GE(smallest, grain / 2) << "n " << n << " grain " << grain;
    }
  }
}

TEST(Parallel, OneThreadRunsOnTheCallingThreadOnly) {
  ThreadGuard guard;
  tg::set_num_threads(1);
  std::mutex m;
  std::set<std::thread::id> ids;
  tg::parallel_for(0, 1 << 20, 1, [&](int64_t, int64_t) {
    std::lock_guard<std::mutex> lock(m);
    ids.insert(std::this_thread::get_id());
  });
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(*ids.begin(), std::this_thread::get_id());
}

TEST(Parallel, ParallelChunksCutsAtMultiplesOfChunk) {
  ThreadGuard guard;
  for (int threads : {1, 2}) {
    tg::set_num_threads(threads);
    for (int64_t n : {1, 5, 16, 17, 1000, 100003}) {
      for (int64_t chunk : {1, 3, 16, 1000, 4096, 200000}) {
        SCOPED_TRACE("threads " + std::to_string(threads) + " n " + std::to_string(n) + " chunk " + std::to_string(chunk));
        const int64_t count = (n + chunk - 1) / chunk;
        std::vector<std::atomic<int>> seen(static_cast<size_t>(count));
        for (auto& s : seen) s.store(0);
        std::atomic<int> bad{0};
        tg::parallel_chunks(n, chunk, [&](int64_t c, int64_t lo, int64_t hi) {
          if (c < 0 || c >= count || lo != c * chunk || hi != std::min(n, (c + 1) * chunk)) {
            bad.fetch_add(1);
            return;
          }
          seen[static_cast<size_t>(c)].fetch_add(1);
        });
        EXPECT_EQ(bad.load(), 0);
        for (int64_t c = 0; c < count; ++c) ASSERT_EQ(seen[c].load(), 1) << "chunk " << c;
      }
    }
  }
}

TEST(Parallel, ParallelChunksEdgeCases) {
  int calls = 0;
  tg::parallel_chunks(0, 10, [&](int64_t, int64_t, int64_t) { ++calls; });
  tg::parallel_chunks(-5, 10, [&](int64_t, int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
  // chunk < 1 acts as 1: n chunks of one index each.
  std::vector<std::atomic<int>> seen(7);
  for (auto& s : seen) s.store(0);
  std::atomic<int> bad{0};
  tg::parallel_chunks(7, 0, [&](int64_t c, int64_t lo, int64_t hi) {
    if (lo != c || hi != c + 1) bad.fetch_add(1);
    else seen[c].fetch_add(1);
  });
  EXPECT_EQ(bad.load(), 0);
  for (auto& s : seen) EXPECT_EQ(s.load(), 1);
}

namespace {

// Values whose float sum depends strongly on the order of additions.
std::vector<double> tricky_values(int64_t n) {
  std::vector<double> v(static_cast<size_t>(n));
  uint64_t x = 88172645463325252ull;
  for (auto& d : v) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    const double mag = std::ldexp(1.0, static_cast<int>(x % 80) - 40);
    d = ((x >> 40) & 1 ? -1.0 : 1.0) * mag * (1.0 + static_cast<double>(x >> 44) / 1048576.0);
  }
  return v;
}

double serial_chunk_sum(const std::vector<double>& v, int64_t chunk) {
  const int64_t n = static_cast<int64_t>(v.size());
  double total = 0.0;
  for (int64_t lo = 0; lo < n; lo += chunk) {
    double part = 0.0;
    for (int64_t i = lo; i < std::min(n, lo + chunk); ++i) part += v[i];
    total += part;
  }
  return total;
}

}  // namespace

TEST(Parallel, DeterministicSumIsTheSerialChunkSum) {
  ThreadGuard guard;
  const std::vector<double> v = tricky_values(300007);
  const int64_t n = static_cast<int64_t>(v.size());
  auto partial = [&](int64_t lo, int64_t hi) {
    double s = 0.0;
    for (int64_t i = lo; i < hi; ++i) s += v[i];
    return s;
  };
  for (int64_t chunk : {1000, 4096, 32768, 1 << 20}) {
    const double expect = serial_chunk_sum(v, chunk);
    for (int threads : {1, 2}) {
      tg::set_num_threads(threads);
      for (int rep = 0; rep < 3; ++rep) {
        const double got = tg::deterministic_sum(n, chunk, partial);
        EXPECT_EQ(0, std::memcmp(&got, &expect, sizeof(double)))
            << "chunk " << chunk << " threads " << threads << ": " << got << " vs " << expect;
      }
    }
  }
  // The chunking matters for these values (otherwise the test above would prove little).
  EXPECT_NE(serial_chunk_sum(v, 1000), serial_chunk_sum(v, 1 << 20));
}

TEST(Parallel, DeterministicSumEdgeCases) {
  int calls = 0;
  EXPECT_EQ(tg::deterministic_sum(0, 10, [&](int64_t, int64_t) { ++calls; return 1.0; }), 0.0);
  EXPECT_EQ(tg::deterministic_sum(-3, 10, [&](int64_t, int64_t) { ++calls; return 1.0; }), 0.0);
  EXPECT_EQ(calls, 0);
  // Each chunk's partial counted once: partial returns its length.
  EXPECT_EQ(tg::deterministic_sum(1001, 10, [](int64_t lo, int64_t hi) { return static_cast<double>(hi - lo); }),
            1001.0);
  EXPECT_EQ(tg::deterministic_sum(5, 0, [](int64_t lo, int64_t hi) { return static_cast<double>(lo * 10 + hi); }),
            0 * 10 + 1 + 1 * 10 + 2 + 2 * 10 + 3 + 3 * 10 + 4 + 4 * 10 + 5.0);
}

TEST(Parallel, SetNumThreadsRejectsNonPositive) {
  ThreadGuard guard;
  EXPECT_TG_ERROR(tg::set_num_threads(0), "set_num_threads", "0");
  EXPECT_TG_ERROR(tg::set_num_threads(-2), "set_num_threads", "-2");
  EXPECT_EQ(tg::num_threads(), guard.saved);  // a rejected call changes nothing
}

TEST(Parallel, NumThreadsReflectsSetNumThreads) {
  ThreadGuard guard;
  EXPECT_GE(guard.saved, 1);
  tg::set_num_threads(1);
  EXPECT_EQ(tg::num_threads(), 1);
  tg::set_num_threads(2);
  EXPECT_EQ(tg::num_threads(), 2);
  tg::set_num_threads(1);  // lowering again after raising
  EXPECT_EQ(tg::num_threads(), 1);
  tg::set_num_threads(2);
  EXPECT_EQ(tg::num_threads(), 2);
}
