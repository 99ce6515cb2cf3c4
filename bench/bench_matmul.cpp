// GEMM throughput of tapegrad::matmul at 1 and 2 threads, in GFLOP/s.
// Run: build/bench/bench_matmul --benchmark_filter=Matmul
#include <benchmark/benchmark.h>
#include <tapegrad/tapegrad.h>

namespace tg = tapegrad;

namespace {

void BM_Matmul(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const int threads = static_cast<int>(state.range(3));
  tg::set_num_threads(threads);
  tg::Rng rng(1);
  const tg::Tensor a = tg::Tensor::randn({m, k}, rng), b = tg::Tensor::randn({k, n}, rng);
  for (auto _ : state) {
    tg::Tensor c = tg::matmul(a, b);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(m * k * n) * static_cast<double>(state.iterations()),
                                                 benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
  state.counters["threads"] = threads;
}

}  // namespace

BENCHMARK(BM_Matmul)
    ->ArgNames({"m", "k", "n", "threads"})
    ->Args({1024, 1024, 1024, 1})
    ->Args({1024, 1024, 1024, 2})
    ->Args({1024, 288, 64, 1})
    ->Args({1024, 288, 64, 2})
    ->Args({256, 576, 64, 1})
    ->Args({1024, 288, 32, 1})
    ->Args({900, 288, 32, 1})
    ->Args({288, 900, 32, 1})
    ->Args({128, 784, 512, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
