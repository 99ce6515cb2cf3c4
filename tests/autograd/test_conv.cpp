// Convolution ops: forward against the naive loops of naive_conv.h for every option that
// changes the indexing, Keras' output sizes, gradcheck for each option, errors.
#include <gtest/gtest.h>

#include "../error_matchers.h"
#include "../test_data.h"
#include "gradcheck_strength.h"
#include "tapegrad/autograd/conv.h"
#include "tapegrad/autograd/gradcheck.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/parallel.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"
#include "naive_conv.h"

namespace tg = tapegrad;
using tg::Shape;
using tg::Tensor;
using tg::Variable;
using Vars = std::vector<Variable>;
using gradcheck_strength::passes;
using tapegrad::testing::normal;
using tapegrad::testing::uniform;

namespace {

struct Case {
  std::vector<int64_t> spatial, kernel, stride, dil;
  std::string padding;
  int64_t c_in, c_out;
};

}  // namespace

TEST(ConvOutputLength, KerasRules) {
  EXPECT_EQ(tg::conv_output_length(32, 3, 1, 1, "valid"), 30);
  EXPECT_EQ(tg::conv_output_length(32, 3, 1, 1, "same"), 32);
  EXPECT_EQ(tg::conv_output_length(32, 3, 2, 1, "same"), 16);
  EXPECT_EQ(tg::conv_output_length(33, 3, 2, 1, "same"), 17);
  EXPECT_EQ(tg::conv_output_length(33, 3, 2, 1, "valid"), 16);
  EXPECT_EQ(tg::conv_output_length(10, 3, 1, 2, "valid"), 6);
  EXPECT_EQ(tg::conv_output_length(10, 3, 1, 2, "causal"), 10);
  // Transposed (Keras deconv_output_length).
  EXPECT_EQ(tg::conv_transpose_output_length(8, 3, 2, 1, "valid", -1), 17);
  EXPECT_EQ(tg::conv_transpose_output_length(8, 3, 2, 1, "same", -1), 16);
  EXPECT_EQ(tg::conv_transpose_output_length(8, 3, 2, 1, "same", 1), 16);
  EXPECT_EQ(tg::conv_transpose_output_length(8, 3, 2, 1, "valid", 1), 18);
  EXPECT_EQ(tg::conv_transpose_output_length(8, 4, 2, 1, "same", 0), 14);
}

TEST(Conv, ForwardMatchesNaiveLoopsForEveryOption) {
  const std::vector<Case> cases = {
      {{9}, {3}, {1}, {1}, "valid", 2, 3},         {{9}, {3}, {2}, {1}, "same", 2, 3},
      {{9}, {3}, {1}, {2}, "causal", 3, 2},        {{10}, {4}, {3}, {1}, "same", 1, 2},
      {{7, 6}, {3, 3}, {1, 1}, {1, 1}, "valid", 3, 4}, {{7, 6}, {3, 2}, {2, 2}, {1, 1}, "same", 3, 4},
      {{8, 8}, {3, 3}, {1, 1}, {2, 2}, "same", 2, 3},  {{8, 7}, {2, 3}, {3, 2}, {1, 1}, "valid", 2, 2},
      {{5, 4, 6}, {2, 3, 2}, {1, 2, 1}, {1, 1, 2}, "same", 2, 3}, {{4, 5, 4}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, "valid", 1, 2},
  };
  uint64_t seed = 1;
  for (const auto& c : cases) {
    Shape xs{3};
    for (auto s : c.spatial) xs.push_back(s);
    xs.push_back(c.c_in);
    Shape ws;
    for (auto k : c.kernel) ws.push_back(k);
    ws.push_back(c.c_in);
    ws.push_back(c.c_out);
    const Tensor x = normal(xs, seed++), w = normal(ws, seed++);
    const tg::ConvParams p{c.stride, c.dil, c.padding};
    const auto g = tg::conv_geometry("test", xs, c.kernel, c.c_out, p);
    std::vector<int64_t> pad, out;
    for (int i = 0; i < g.spatial_rank; ++i) {
      pad.push_back(g.pad_before[3 - g.spatial_rank + i]);
      out.push_back(g.out[3 - g.spatial_rank + i]);
    }
    // Independent check of the padding rule: same puts the extra pixel after (bottom/right).
    for (size_t i = 0; i < c.spatial.size(); ++i) {
      const int64_t span = c.dil[i] * (c.kernel[i] - 1) + 1;
      const int64_t total = std::max<int64_t>((out[i] - 1) * c.stride[i] + span - c.spatial[i], 0);
      EXPECT_EQ(pad[i], c.padding == "same" ? total / 2 : c.padding == "causal" ? span - 1 : 0);
    }
    const Tensor got = tg::conv(Variable(x), Variable(w), p).value();
    const Tensor want = naive::conv(x, w, c.stride, c.dil, pad, out);
    EXPECT_EQ(got.shape(), want.shape());
    EXPECT_TRUE(tg::allclose(got, want, 1e-4f, 1e-4f)) << "case " << xs.str() << " * " << ws.str() << " " << c.padding;
  }
}

TEST(Conv, GradcheckForStridesDilationAndPadding) {
  struct G {
    Shape x, w;
    tg::ConvParams p;
  };
  const std::vector<G> cases = {
      {{2, 7, 2}, {3, 2, 3}, {{2}, {1}, "same"}},
      {{2, 8, 2}, {2, 2, 2}, {{1}, {3}, "causal"}},
      {{2, 5, 6, 2}, {3, 3, 2, 3}, {{1, 1}, {1, 1}, "valid"}},
      {{2, 6, 5, 2}, {3, 2, 2, 2}, {{2, 2}, {1, 1}, "same"}},
      {{1, 7, 7, 1}, {3, 3, 1, 2}, {{1, 1}, {2, 2}, "same"}},
      {{1, 4, 4, 3, 2}, {2, 2, 2, 2, 2}, {{2, 1, 1}, {1, 1, 2}, "same"}},
  };
  uint64_t seed = 100;
  for (const auto& c : cases) {
    const auto p = c.p;
    EXPECT_TRUE(passes([p](const Vars& v) { return tg::conv(v[0], v[1], p); }, {normal(c.x, seed), normal(c.w, seed + 1)}))
        << c.x.str() << " " << p.padding;
    seed += 2;
  }
}

TEST(Conv, ResultsDoNotDependOnThreads) {
  const Tensor x = normal({9, 12, 12, 5}, 7), w = normal({3, 3, 5, 8}, 8);
  const tg::ConvParams p{{1, 1}, {1, 1}, "same"};
  Tensor y[2], dw[2], dx[2];
  for (int t = 0; t < 2; ++t) {
    tg::set_num_threads(t + 1);
    Variable xv(x, true), wv(w, true);
    Variable out = tg::conv(xv, wv, p);
    out.backward(tg::mul(out.value(), 0.5f));
    y[t] = out.value();
    dw[t] = wv.grad();
    dx[t] = xv.grad();
  }
  tg::set_num_threads(2);
  EXPECT_EQ(y[0].to_vector(), y[1].to_vector());
  EXPECT_EQ(dw[0].to_vector(), dw[1].to_vector());
  EXPECT_EQ(dx[0].to_vector(), dx[1].to_vector());
}

TEST(ConvTranspose, ForwardMatchesTheScatterDefinition) {
  struct T {
    Shape x, w;
    std::vector<int64_t> stride, dil, output_padding;
    std::string padding;
  };
  const std::vector<T> cases = {
      {{2, 4, 3}, {3, 2, 3}, {2}, {1}, {}, "valid"},          {{2, 4, 3}, {3, 2, 3}, {2}, {1}, {}, "same"},
      {{2, 4, 3}, {3, 2, 3}, {2}, {1}, {1}, "same"},          {{2, 4, 3}, {3, 2, 3}, {3}, {1}, {2}, "valid"},
      {{1, 3, 4, 2}, {3, 3, 2, 2}, {2, 2}, {1, 1}, {}, "same"}, {{1, 3, 4, 2}, {2, 3, 3, 2}, {2, 1}, {1, 1}, {1, 0}, "valid"},
      {{1, 4, 3, 1}, {3, 3, 2, 1}, {1, 1}, {2, 2}, {}, "valid"}, {{1, 2, 3, 2, 2}, {2, 2, 2, 3, 2}, {2, 2, 2}, {1, 1, 1}, {}, "same"},
  };
  uint64_t seed = 200;
  for (const auto& c : cases) {
    const int r = c.x.rank() - 2;
    const Tensor x = normal(c.x, seed++), w = normal(c.w, seed++);
    const Tensor got = tg::conv_transpose(Variable(x), Variable(w), {c.stride, c.dil, c.padding}, c.output_padding).value();
    std::vector<int64_t> out, pad;
    for (int i = 0; i < r; ++i) {
      const int64_t op = c.output_padding.empty() ? -1 : c.output_padding[i];
      out.push_back(tg::conv_transpose_output_length(c.x[1 + i], c.w[i], c.stride[i], c.dil[i], c.padding, op));
      // TensorFlow's conv2d_backprop_input pads like the forward convolution of the output size.
      const int64_t span = c.dil[i] * (c.w[i] - 1) + 1;
      const int64_t total = std::max<int64_t>((c.x[1 + i] - 1) * c.stride[i] + span - out[i], 0);
      pad.push_back(c.padding == "same" ? total / 2 : 0);
    }
    const Tensor want = naive::conv_transpose(x, w, c.stride, c.dil, pad, out);
    EXPECT_EQ(got.shape(), want.shape()) << c.x.str();
    EXPECT_TRUE(tg::allclose(got, want, 1e-4f, 1e-4f)) << c.x.str() << " " << c.padding;
  }
}

TEST(ConvTranspose, Gradcheck) {
  EXPECT_TRUE(passes([](const Vars& v) { return tg::conv_transpose(v[0], v[1], {{2}, {1}, "same"}, {1}); },
                     {normal({2, 4, 2}, 300), normal({3, 3, 2}, 301)}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::conv_transpose(v[0], v[1], {{2, 2}, {1, 1}, "valid"}); },
                     {normal({1, 3, 3, 2}, 302), normal({3, 2, 2, 2}, 303)}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::conv_transpose(v[0], v[1], {{1, 1}, {2, 2}, "same"}); },
                     {normal({1, 4, 4, 1}, 304), normal({3, 3, 2, 1}, 305)}));
}

TEST(DepthwiseConv, ForwardMatchesNaiveAndGradcheck) {
  for (int64_t mult : {1, 2}) {
    const Tensor x = normal({2, 6, 5, 3}, 400 + mult), w = normal({3, 3, 3, mult}, 410 + mult);
    for (const std::string padding : {"valid", "same"}) {
      const tg::ConvParams p{{2, 1}, {1, 1}, padding};
      const auto g = tg::conv_geometry("test", x.shape(), {3, 3}, 3 * mult, p);
      const Tensor got = tg::depthwise_conv(Variable(x), Variable(w), p).value();
      const Tensor want = naive::conv(x, w, {2, 1}, {1, 1}, {g.pad_before[1], g.pad_before[2]}, {g.out[1], g.out[2]}, true);
      EXPECT_TRUE(tg::allclose(got, want, 1e-4f, 1e-4f)) << "multiplier " << mult << " " << padding;
    }
  }
  EXPECT_TRUE(passes([](const Vars& v) { return tg::depthwise_conv(v[0], v[1], {{1, 2}, {1, 1}, "same"}); },
                     {normal({2, 5, 5, 2}, 420), normal({3, 3, 2, 2}, 421)}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::depthwise_conv(v[0], v[1], {{1}, {2}, "valid"}); },
                     {normal({2, 7, 3}, 422), normal({2, 3, 1}, 423)}));
}

TEST(DepthwiseConv, ChannelBlocksMatchTheDefinitionExactly) {
  // Multiplier 1 runs by blocks of 64 channels in registers: a whole block, a block and a tail,
  // several blocks, a tail alone; strides, dilation, 'valid'; 1-D and 3-D. Integer data makes
  // the sums exact, so the forward and the input gradient must equal the definitions (the input
  // gradient is the transposed convolution of dy with the diagonal kernel) at 1 and 2 threads.
  struct Case {
    Shape x;
    std::vector<int64_t> kernel, stride, dilation;
    std::string padding;
  };
  for (const Case& c : {Case{{2, 9, 8, 64}, {3, 3}, {1, 1}, {1, 1}, "same"}, Case{{2, 9, 9, 70}, {3, 3}, {2, 2}, {1, 1}, "same"},
                        Case{{1, 8, 7, 130}, {3, 3}, {1, 2}, {1, 1}, "valid"}, Case{{2, 10, 9, 20}, {3, 3}, {1, 1}, {2, 2}, "same"},
                        Case{{2, 12, 40}, {5}, {2}, {1}, "same"}, Case{{1, 4, 5, 4, 33}, {3, 3, 3}, {2, 1, 2}, {1, 1, 1}, "same"}}) {
    const int64_t channels = c.x[c.x.rank() - 1];
    Shape ws(c.kernel);
    ws.push_back(channels);
    ws.push_back(1);
    const Tensor x = tapegrad::testing::make(c.x, 7, -3.0f, 3.0f, true), w = tapegrad::testing::make(ws, 8, -3.0f, 3.0f, true);
    const tg::ConvParams params{c.stride, c.dilation, c.padding};
    const auto g = tg::conv_geometry("test", c.x, c.kernel, channels, params);
    std::vector<int64_t> pad, out, in;
    for (size_t d = 0; d < c.kernel.size(); ++d) {
      pad.push_back(g.pad_before[3 - c.kernel.size() + d]);
      out.push_back(g.out[3 - c.kernel.size() + d]);
      in.push_back(c.x[1 + d]);
    }
    const Tensor want_y = naive::conv(x, w, c.stride, c.dilation, pad, out, true);
    Shape full(c.kernel);  // the diagonal kernel (*window, channels, channels) of the transposed convolution
    full.push_back(channels);
    full.push_back(channels);
    Tensor diagonal = Tensor::zeros(full);
    const int64_t taps = w.numel() / channels;
    for (int64_t k = 0; k < taps; ++k)
      for (int64_t ch = 0; ch < channels; ++ch) diagonal.data()[(k * channels + ch) * channels + ch] = w.data()[k * channels + ch];
    const Tensor dy = tapegrad::testing::make(want_y.shape(), 9, -3.0f, 3.0f, true);
    const Tensor want_dx = naive::conv_transpose(dy, diagonal, c.stride, c.dilation, pad, in);
    for (int threads : {1, 2}) {
      tg::set_num_threads(threads);
      Variable xv(x, true), wv(w, true);
      const Variable y = tg::depthwise_conv(xv, wv, params);
      y.backward(dy);
      EXPECT_EQ(y.value().to_vector(), want_y.to_vector()) << c.x.str() << ", " << threads << " threads";
      EXPECT_EQ(xv.grad().to_vector(), want_dx.to_vector()) << c.x.str() << " input gradient, " << threads << " threads";
    }
  }
  tg::set_num_threads(2);
}

TEST(LocallyConnected, UnsharedWeightsAndGradcheck) {
  // With every position's weights equal, it is a valid convolution.
  const Tensor x = normal({2, 6, 5, 2}, 500), w = normal({3, 3, 2, 4}, 501);
  const int64_t positions = 4 * 3;
  Tensor lw = Tensor::empty({positions, 18, 4});
  for (int64_t p = 0; p < positions; ++p) std::copy(w.data(), w.data() + 72, lw.data() + p * 72);
  const Tensor got = tg::locally_connected(Variable(x), Variable(lw), {3, 3}).value();
  EXPECT_TRUE(tg::allclose(got, tg::conv(Variable(x), Variable(w)).value(), 1e-4f, 1e-4f));
  // Changing one position's weights changes only that output position.
  lw.data()[5 * 72] += 1.0f;
  const Tensor changed = tg::locally_connected(Variable(x), Variable(lw), {3, 3}).value();
  const Tensor diff = tg::abs(tg::sub(changed, got));
  EXPECT_GT(tg::sum(diff, {0, 3}).at({5 / 3, 5 % 3}), 0.0f);
  EXPECT_NEAR(tg::sum_all(diff) - tg::sum(diff, {0, 3}).at({5 / 3, 5 % 3}), 0.0, 1e-5);
  EXPECT_TRUE(passes([](const Vars& v) { return tg::locally_connected(v[0], v[1], {2, 2}, {2, 1}); },
                     {normal({2, 5, 4, 2}, 502), normal({2 * 3, 8, 3}, 503)}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::locally_connected(v[0], v[1], {3}); },
                     {normal({2, 6, 2}, 504), normal({4, 6, 2}, 505)}));
}

TEST(Conv, Errors) {
  const Variable x(Tensor::ones({2, 8, 8, 3}));
  EXPECT_ERROR(tg::conv(x, Variable(Tensor::ones({3, 3, 4, 2}))), {"conv", "(3, 3, 4, 2)", "(2, 8, 8, 3)", "channels"});
  EXPECT_ERROR(tg::conv(x, Variable(Tensor::ones({3, 3, 2}))), {"conv", "(3, 3, 2)", "4 dims"});
  EXPECT_ERROR(tg::conv(x, Variable(Tensor::ones({9, 3, 3, 2}))), {"conv", "larger than the input"});
  EXPECT_ERROR(tg::conv(x, Variable(Tensor::ones({3, 3, 3, 2})), {.padding = "full"}), {"unknown padding 'full'"});
  EXPECT_ERROR(tg::conv(x, Variable(Tensor::ones({3, 3, 3, 2})), {.padding = "causal"}), {"causal", "1-D"});
  EXPECT_ERROR(tg::conv(x, Variable(Tensor::ones({3, 3, 3, 2})), {.strides = {1, 0}}), {"positive"});
  EXPECT_ERROR(tg::conv(Variable(Tensor::ones({8, 3})), Variable(Tensor::ones({3, 3}))), {"conv", "(8, 3)", "spatial"});
  EXPECT_ERROR(tg::conv_transpose(x, Variable(Tensor::ones({3, 3, 2, 3})), {.strides = {2, 2}}, {2, 0}),
               {"conv_transpose", "output_padding 2", "stride 2"});
  EXPECT_ERROR(tg::locally_connected(x, Variable(Tensor::ones({35, 27, 4})), {3, 3}),
               {"locally_connected", "(35, 27, 4)", "(36, 27, 4)"});
}

TEST(Conv, FusedBiasAndReluMatchTheSeparateOpsAndGradcheck) {
  const Tensor x = normal({2, 6, 5, 3}, 600), w = normal({3, 3, 3, 4}, 601), b = normal({4}, 602);
  const tg::ConvParams p{{1, 1}, {1, 1}, "same"};
  const Tensor fused = tg::conv(Variable(x), Variable(w), p, Variable(b), true).value();
  const Tensor separate = tg::relu(tg::add(tg::conv(Variable(x), Variable(w), p), Variable(b))).value();
  EXPECT_TRUE(tg::allclose(fused, separate, 1e-5f, 1e-5f));
  EXPECT_GT(tg::sum_all(tg::equal(fused, Tensor::scalar(0.0f))), 0.0) << "some outputs are clamped";
  EXPECT_TRUE(passes([p](const Vars& v) { return tg::conv(v[0], v[1], p, v[2], true); },
                     {normal({2, 5, 4, 2}, 603), normal({3, 3, 2, 3}, 604), normal({3}, 605)}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::conv(v[0], v[1], {{2}, {1}, "valid"}, v[2]); },
                     {normal({2, 7, 2}, 606), normal({3, 2, 3}, 607), normal({3}, 608)}));
  EXPECT_ERROR(tg::conv(Variable(x), Variable(w), p, Variable(Tensor::ones({3}))), {"conv", "bias (3,)", "(4,)"});
}
