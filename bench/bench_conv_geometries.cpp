// The convolutions of the zoo's networks at batch 128, one at a time: forward and backward as
// the network runs them (the first convolution needs no input gradient), float32 and bfloat16
// (fp32 accumulation on the CPU's best bf16 ISA), best of 12 runs, in ms; per network the sum
// weighted by how many such convolutions it has. For deciding which kernel serves a geometry.
// Run: build/bench/bench_conv_geometries [threads] [resnet20|textcnn|all]
#include <tapegrad/tapegrad.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace tg = tapegrad;

namespace {

struct Geometry {
  const char* name;
  std::vector<int64_t> spatial, kernel;
  int64_t c_in, c_out, stride;
  std::string padding;
  bool input_gradient;
  int count;  // in the network
};

struct Network {
  const char* name;
  std::vector<Geometry> convs;
};

const std::vector<Network>& networks() {
  static const std::vector<Network> all{
      {"resnet20",
       {{"stem 3x3 3->16", {32, 32}, {3, 3}, 3, 16, 1, "same", false, 1},
        {"3x3 16->16", {32, 32}, {3, 3}, 16, 16, 1, "same", true, 6},
        {"3x3/2 16->32", {32, 32}, {3, 3}, 16, 32, 2, "same", true, 1},
        {"1x1/2 16->32", {32, 32}, {1, 1}, 16, 32, 2, "same", true, 1},
        {"3x3 32->32", {16, 16}, {3, 3}, 32, 32, 1, "same", true, 5},
        {"3x3/2 32->64", {16, 16}, {3, 3}, 32, 64, 2, "same", true, 1},
        {"1x1/2 32->64", {16, 16}, {1, 1}, 32, 64, 2, "same", true, 1},
        {"3x3 64->64", {8, 8}, {3, 3}, 64, 64, 1, "same", true, 5}}},
      {"textcnn",
       {{"k5 128->128 L200", {200}, {5}, 128, 128, 1, "valid", true, 1},
        {"k5 128->128 L39", {39}, {5}, 128, 128, 1, "valid", true, 1},
        {"k5 128->128 L7", {7}, {5}, 128, 128, 1, "valid", true, 1}}},
  };
  return all;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  tg::set_num_threads(argc > 1 ? std::atoi(argv[1]) : 1);
  const std::string which = argc > 2 ? argv[2] : "all";
  tg::Rng rng(1);
  std::printf("best bf16 ISA: %s\n", tg::bf16_isa_name(tg::bf16_isa()));
  for (const Network& net : networks()) {
    if (which != "all" && which != net.name) continue;
    double total[2] = {0.0, 0.0};
    std::printf("%s, batch 128, %d thread(s):\n", net.name, tg::num_threads());
    for (const Geometry& c : net.convs) {
      double best[2][2];
      for (int bf16 = 0; bf16 < 2; ++bf16) {
        const tg::ComputeDtypeScope scope(bf16 ? tg::Dtype::bfloat16 : tg::Dtype::float32);
        tg::Shape xs{128}, ws(c.kernel);
        for (int64_t d : c.spatial) xs.push_back(d);
        xs.push_back(c.c_in);
        ws.push_back(c.c_in);
        ws.push_back(c.c_out);
        tg::Variable x(tg::Tensor::randn(xs, rng), c.input_gradient), w(tg::Tensor::randn(ws, rng), true);
        const tg::ConvParams params{std::vector<int64_t>(c.spatial.size(), c.stride), std::vector<int64_t>(c.spatial.size(), 1),
                                    c.padding};
        best[bf16][0] = best[bf16][1] = 1e30;
        for (int rep = 0; rep < 12; ++rep) {
          auto t0 = std::chrono::steady_clock::now();
          tg::Variable y = tg::conv(x, w, params);
          best[bf16][0] = std::min(best[bf16][0], ms_since(t0));
          t0 = std::chrono::steady_clock::now();
          y.backward(y.value());
          best[bf16][1] = std::min(best[bf16][1], ms_since(t0));
          w.zero_grad();
          if (c.input_gradient) x.zero_grad();
        }
        total[bf16] += c.count * (best[bf16][0] + best[bf16][1]);
      }
      std::printf("  %-18s x%d  float32 forward %6.2f backward %6.2f | bfloat16 forward %6.2f backward %6.2f\n", c.name, c.count,
                  best[0][0], best[0][1], best[1][0], best[1][1]);
    }
    std::printf("  all, weighted by count: float32 %.1f ms, bfloat16 %.1f ms\n", total[0], total[1]);
  }
}
