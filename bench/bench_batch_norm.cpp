// Training-mode batch normalization at ResNet-20's three stage shapes (batch 128, channels
// last), forward and forward + backward, plain, fused with a relu, or with a residual add and a
// relu, in
// GB/s of the tensors each pass must read or write (so memory-bound passes compare across
// shapes). Run: build/bench/bench_batch_norm
#include <benchmark/benchmark.h>
#include <tapegrad/tapegrad.h>

namespace tg = tapegrad;

namespace {

void BM_BatchNorm(benchmark::State& state) {
  const int64_t batch = 128, size = state.range(0), channels = state.range(1);
  const bool backward = state.range(2) != 0, relu = state.range(3) != 0, fused = state.range(3) == 2;
  tg::set_num_threads(static_cast<int>(state.range(4)));
  tg::Rng rng(1);
  const tg::Shape shape{batch, size, size, channels};
  tg::Variable x(tg::Tensor::randn(shape, rng), true), r(tg::Tensor::randn(shape, rng), true);
  tg::Variable gamma(tg::Tensor::ones({channels}), true), beta(tg::Tensor::zeros({channels}), true);
  const tg::Tensor dy = tg::Tensor::randn(shape, rng);
  for (auto _ : state) {
    const tg::Variable y = tg::batch_norm_train(x, gamma, beta, -1, 1e-3f, relu, fused ? r : tg::Variable()).y;
    if (backward) {
      y.backward(dy);
      x.zero_grad();
      r.zero_grad();
      gamma.zero_grad();
      beta.zero_grad();
    }
    benchmark::DoNotOptimize(y.value().data());
  }
  // Tensors moved, at the least: forward x twice (statistics, output), the residual, y;
  // backward dy and x twice each, dx (and, with the residual, y for the mask and the residual's
  // gradient).
  const double tensors = (fused ? 4.0 : 3.0) + (backward ? (fused ? 7.0 : 5.0) : 0.0);
  const double bytes = tensors * 4.0 * static_cast<double>(batch * size * size * channels);
  state.counters["GB/s"] = benchmark::Counter(bytes * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate,
                                             benchmark::Counter::kIs1000);
}

}  // namespace

BENCHMARK(BM_BatchNorm)
    ->ArgNames({"hw", "c", "backward", "fused", "threads"})  // fused: 1 relu, 2 residual add + relu
    ->Args({32, 16, 0, 0, 1})
    ->Args({32, 16, 1, 0, 1})
    ->Args({32, 16, 1, 1, 1})
    ->Args({32, 16, 0, 2, 1})
    ->Args({32, 16, 1, 2, 1})
    ->Args({16, 32, 1, 0, 1})
    ->Args({8, 64, 1, 0, 1})
    ->Args({32, 16, 1, 2, 2})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
