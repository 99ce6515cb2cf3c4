// GEMM throughput of tapegrad::matmul at 1 and 2 threads, and of the single-threaded bf16 GEMM
// on every instruction set this CPU has (isa: 0 emulated, 1 avx512_bf16, 2 amx), in GFLOP/s.
// Run: build/bench/bench_matmul --benchmark_filter=Matmul
#include <benchmark/benchmark.h>
#include <tapegrad/tapegrad.h>

#include "core/gemm_bf16.h"

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

// C (m x n) = bf16(A) bf16(B): A packed (rounded) on every call, as a convolution's patches
// are; B packed once, as a kernel is per step.
void BM_GemmBf16(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const auto isa = static_cast<tg::Bf16Isa>(state.range(3));
  if (!tg::bf16_isa_available(isa)) {
    state.SkipWithError((std::string(tg::bf16_isa_name(isa)) + " is not available on this CPU").c_str());
    return;
  }
  tg::Rng rng(1);
  const tg::Tensor a = tg::Tensor::randn({m, k}, rng), b = tg::Tensor::randn({k, n}, rng);
  tg::Tensor c = tg::Tensor::empty({m, n});
  const tg::PackedBf16Matrix packed = tg::pack_bf16_b({b.data(), n}, k, n);
  for (auto _ : state) {
    tg::gemm_bf16({a.data(), k}, packed, c.data(), n, m, false, isa);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(m * k * n) * static_cast<double>(state.iterations()),
                                                 benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
  state.SetLabel(tg::bf16_isa_name(isa));
}

}  // namespace

BENCHMARK(BM_GemmBf16)
    ->ArgNames({"m", "k", "n", "isa"})
    ->ArgsProduct({{1024}, {1024}, {1024}, {0, 1, 2}})
    ->ArgsProduct({{4096}, {288}, {64}, {0, 1, 2}})
    ->ArgsProduct({{8192}, {144}, {32}, {0, 1, 2}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

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
