#include "tapegrad/core/parallel.h"

#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tapegrad/core/error.h"

namespace tapegrad {

namespace {

std::mutex g_control_mutex;
std::unique_ptr<tbb::global_control> g_control;

void apply_limit(int n) {
  std::lock_guard<std::mutex> lock(g_control_mutex);
  g_control = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                     static_cast<size_t>(n));
}

// Reads TAPEGRAD_NUM_THREADS once, before the first parallel call.
void init_from_environment() {
  static const bool done = [] {
    if (const char* env = std::getenv("TAPEGRAD_NUM_THREADS")) {
      char* end = nullptr;
      const long n = std::strtol(env, &end, 10);
      if (end == env || *end != '\0' || n < 1)
        fail("TAPEGRAD_NUM_THREADS", std::string("expects a positive integer, got '") + env + "'");
      apply_limit(static_cast<int>(n));
    }
    return true;
  }();
  (void)done;
}

}  // namespace

void set_num_threads(int n) {
  init_from_environment();
  if (n < 1) fail("set_num_threads", "expects at least 1 thread, got " + std::to_string(n));
  apply_limit(n);
}

int num_threads() {
  init_from_environment();
  return static_cast<int>(tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism));
}

void parallel_for(int64_t begin, int64_t end, int64_t grain, FunctionRef<void(int64_t, int64_t)> body) {
  if (end <= begin) return;
  init_from_environment();
  if (grain < 1) grain = 1;
  if (end - begin <= grain) {
    body(begin, end);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<int64_t>(begin, end, grain),
                    [&](const tbb::blocked_range<int64_t>& r) { body(r.begin(), r.end()); });
}

void parallel_chunks(int64_t n, int64_t chunk, FunctionRef<void(int64_t, int64_t, int64_t)> body) {
  if (n <= 0) return;
  if (chunk < 1) chunk = 1;
  const int64_t count = (n + chunk - 1) / chunk;
  parallel_for(0, count, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) body(c, c * chunk, std::min(n, (c + 1) * chunk));
  });
}

double deterministic_sum(int64_t n, int64_t chunk, FunctionRef<double(int64_t, int64_t)> partial) {
  if (n <= 0) return 0.0;
  if (chunk < 1) chunk = 1;
  std::vector<double> partials(static_cast<size_t>((n + chunk - 1) / chunk));
  parallel_chunks(n, chunk, [&](int64_t c, int64_t lo, int64_t hi) { partials[c] = partial(lo, hi); });
  double total = 0.0;
  for (double p : partials) total += p;
  return total;
}

}  // namespace tapegrad
