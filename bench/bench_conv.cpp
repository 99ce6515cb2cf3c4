// Conv2D throughput at CIFAR sizes (batch 32, 3x3, 'same'), forward and forward + backward, in
// GFLOP/s (2 * multiply-adds; the backward pass counts twice the forward: input and kernel grads).
// The last argument picks the compute dtype: 0 float32, 1 bfloat16 (fp32 accumulation, on the
// CPU's best bf16 ISA). Run: build/bench/bench_conv [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <tapegrad/tapegrad.h>

namespace tg = tapegrad;

namespace {

void BM_Conv2D(benchmark::State& state) {
  const int64_t batch = 32, size = state.range(0), c_in = state.range(1), c_out = state.range(2);
  // backward: 0 forward only, 1 forward + both gradients, 2 forward + the kernel gradient only
  const bool backward = state.range(3) != 0, input_gradient = state.range(3) == 1;
  tg::set_num_threads(static_cast<int>(state.range(4)));
  const tg::ComputeDtypeScope dtype(state.range(5) != 0 ? tg::Dtype::bfloat16 : tg::Dtype::float32);
  tg::Rng rng(1);
  tg::Variable x(tg::Tensor::randn({batch, size, size, c_in}, rng), input_gradient);
  tg::Variable w(tg::Tensor::randn({3, 3, c_in, c_out}, rng), true);
  const tg::ConvParams same{{1, 1}, {1, 1}, "same"};
  for (auto _ : state) {
    tg::Variable y = tg::conv(x, w, same);
    if (backward) {
      y.backward(y.value());
      w.zero_grad();
      if (input_gradient) x.zero_grad();
    }  // without backward the graph goes with y
    benchmark::DoNotOptimize(y.value().data());
  }
  const double flops = 2.0 * static_cast<double>(batch * size * size) * 9.0 * static_cast<double>(c_in * c_out) * (input_gradient ? 3.0 : backward ? 2.0 : 1.0);
  state.counters["GFLOP/s"] = benchmark::Counter(flops * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate,
                                                 benchmark::Counter::kIs1000);
}

}  // namespace

BENCHMARK(BM_Conv2D)
    ->ArgNames({"hw", "cin", "cout", "backward", "threads", "bf16"})
    ->Args({32, 3, 32, 0, 1, 0})
    ->Args({32, 3, 32, 1, 1, 0})
    ->Args({16, 32, 64, 0, 1, 0})
    ->Args({16, 32, 64, 1, 1, 0})
    ->Args({32, 32, 32, 0, 1, 0})
    ->Args({32, 32, 32, 1, 1, 0})
    ->Args({16, 32, 64, 0, 2, 0})
    ->Args({16, 32, 64, 1, 2, 0})
    // ResNet-20's three stages
    ->Args({32, 16, 16, 0, 1, 0})
    ->Args({32, 16, 16, 1, 1, 0})
    ->Args({16, 32, 32, 0, 1, 0})
    ->Args({16, 32, 32, 1, 1, 0})
    ->Args({8, 64, 64, 0, 1, 0})
    ->Args({8, 64, 64, 1, 1, 0})
    ->Args({32, 16, 16, 2, 1, 0})
    ->Args({16, 32, 32, 2, 1, 0})
    ->Args({8, 64, 64, 2, 1, 0})
    // and their 2-thread scaling
    ->Args({32, 16, 16, 1, 2, 0})
    ->Args({16, 32, 32, 1, 2, 0})
    ->Args({8, 64, 64, 1, 2, 0})
    ->Args({32, 16, 16, 2, 2, 0})
    ->Args({8, 64, 64, 2, 2, 0})
    ->Args({8, 64, 64, 0, 2, 0})
    // the same shapes in bfloat16
    ->Args({32, 3, 32, 0, 1, 1})
    ->Args({32, 3, 32, 1, 1, 1})
    ->Args({16, 32, 64, 0, 1, 1})
    ->Args({16, 32, 64, 1, 1, 1})
    ->Args({32, 32, 32, 0, 1, 1})
    ->Args({32, 32, 32, 1, 1, 1})
    ->Args({16, 32, 64, 0, 2, 1})
    ->Args({16, 32, 64, 1, 2, 1})
    ->Args({32, 16, 16, 0, 1, 1})
    ->Args({32, 16, 16, 1, 1, 1})
    ->Args({16, 32, 32, 0, 1, 1})
    ->Args({16, 32, 32, 1, 1, 1})
    ->Args({8, 64, 64, 0, 1, 1})
    ->Args({8, 64, 64, 1, 1, 1})
    ->Args({32, 16, 16, 2, 1, 1})
    ->Args({16, 32, 32, 2, 1, 1})
    ->Args({8, 64, 64, 2, 1, 1})
    ->Args({32, 16, 16, 1, 2, 1})
    ->Args({16, 32, 32, 1, 2, 1})
    ->Args({8, 64, 64, 1, 2, 1})
    ->Args({32, 16, 16, 2, 2, 1})
    ->Args({8, 64, 64, 2, 2, 1})
    ->Args({8, 64, 64, 0, 2, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
