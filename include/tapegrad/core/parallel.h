#pragma once
// The parallel helpers: the only way tapegrad code reaches the thread pool (oneTBB, kept out of
// this header). Results never depend on the number of threads: parallel_chunks cuts the range at
// fixed points, so a reduction that combines chunk results in chunk order is bit-for-bit stable.
#include <cstdint>

#include "tapegrad/core/function_ref.h"

namespace tapegrad {

// Limits the worker threads of the whole process (n >= 1). The environment variable
// TAPEGRAD_NUM_THREADS sets the initial limit; without it TBB uses every core.
void set_num_threads(int n);
// The current limit.
int num_threads();

// Runs body(lo, hi) over sub-ranges of [begin, end) of roughly `grain` indices (TBB may halve a
// range down to grain / 2), in parallel.
// For work whose result does not depend on how the range is split (elementwise, per-sample).
void parallel_for(int64_t begin, int64_t end, int64_t grain, FunctionRef<void(int64_t, int64_t)> body);

// Cuts [0, n) into ceil(n / chunk) chunks at multiples of `chunk` and runs
// body(chunk_index, lo, hi) for each, in parallel. The cut points depend only on n and chunk.
void parallel_chunks(int64_t n, int64_t chunk, FunctionRef<void(int64_t, int64_t, int64_t)> body);

// Sum of partial(lo, hi) over fixed chunks of [0, n), added in chunk order: deterministic.
double deterministic_sum(int64_t n, int64_t chunk, FunctionRef<double(int64_t, int64_t)> partial);

}  // namespace tapegrad
