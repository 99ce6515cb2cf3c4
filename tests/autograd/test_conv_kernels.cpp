// The direct kernels (autograd/conv_direct.cpp, conv_strided.cpp, conv_winograd.cpp) against im2col +
// plain loops, on channel counts that exercise every register tile: full and masked column
// vectors, column groups past 64, row tiles with remainders, 1-D/2-D/3-D, dilation, every
// padding, and for Winograd both tile sizes and odd output sizes (tiles that overhang). Integer
// data makes every sum exact, so the direct kernel must match exactly; Winograd's 4x4 tiles
// carry fractions such as 1/6 and match to rounding. A second test bounds Winograd's rounding
// on ordinary data.
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

#include "../test_data.h"
#include "autograd/conv_direct.h"
#include "autograd/conv_engine.h"
#include "autograd/conv_strided.h"
#include "autograd/conv_winograd.h"
#include "tapegrad/core/parallel.h"

namespace tg = tapegrad;
using tg::ConvGeometry;
using tg::Shape;
using tg::Tensor;
using tapegrad::testing::make;

namespace {

#if defined(__AVX512F__)
constexpr bool kHasDirectKernels = true;
#else
constexpr bool kHasDirectKernels = false;
#endif

struct Case {
  std::vector<int64_t> spatial, kernel, dil;
  std::string padding;
  int64_t batch, c_in, c_out;
  bool winograd;  // served by the Winograd kernel (forward and input gradient)
};

struct Reference {
  Tensor y, dx, dw, db;
};

// Forward (+ bias, relu) and the gradients for dy, by im2col and triple loops. The relu's
// gradient passes where `relu_output` (the kernel under test's forward) is positive, so that an
// output that is exactly 0 here and rounds to +1e-7 there does not count as a difference.
Reference reference(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& dy_in, const Tensor& relu_output,
                    const ConvGeometry& g) {
  const int64_t positions = g.out_positions(), k = g.kernel_positions() * g.c_in, n = g.c_out;
  const int64_t in_size = g.in_positions() * g.c_in;
  Reference r{Tensor::zeros(g.output_shape(n)), Tensor::zeros(g.input_shape()), Tensor::zeros(w.shape()), Tensor::zeros({n})};
  std::vector<float> col(static_cast<size_t>(positions * k)), dcol(col.size());
  for (int64_t b = 0; b < g.batch; ++b) {
    tg::conv_engine::im2col(x.data() + b * in_size, g, col.data());
    float* y = r.y.data() + b * positions * n;
    const float* y_tested = relu_output.data() + b * positions * n;
    const float* dy = dy_in.data() + b * positions * n;
    for (int64_t p = 0; p < positions; ++p)
      for (int64_t o = 0; o < n; ++o) {
        float s = bias.data()[o];
        for (int64_t i = 0; i < k; ++i) s += col[static_cast<size_t>(p * k + i)] * w.data()[i * n + o];
        y[p * n + o] = s > 0.0f ? s : 0.0f;
      }
    for (int64_t p = 0; p < positions; ++p)
      for (int64_t i = 0; i < k; ++i) {
        float s = 0.0f;
        for (int64_t o = 0; o < n; ++o) {
          const float g_out = y_tested[p * n + o] > 0.0f ? dy[p * n + o] : 0.0f;  // through the relu
          s += g_out * w.data()[i * n + o];
          r.dw.data()[i * n + o] += col[static_cast<size_t>(p * k + i)] * g_out;
          if (i == 0) r.db.data()[o] += g_out;
        }
        dcol[static_cast<size_t>(p * k + i)] = s;
      }
    tg::conv_engine::col2im_add(dcol.data(), g, r.dx.data() + b * in_size);
  }
  return r;
}

// Equal when `tolerance` is 0, else within tolerance * the largest |want| (at least 1).
void expect_close(const Tensor& got, const Tensor& want, float tolerance, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  if (tolerance == 0.0f) {
    EXPECT_EQ(got.to_vector(), want.to_vector()) << what;
    return;
  }
  float worst = 0.0f, scale = 1.0f;
  for (int64_t i = 0; i < got.numel(); ++i) {
    worst = std::max(worst, std::abs(got.data()[i] - want.data()[i]));
    scale = std::max(scale, std::abs(want.data()[i]));
  }
  EXPECT_LE(worst, tolerance * scale) << what << ": largest difference " << worst << " against values up to " << scale;
}

// The kernels' forward (+ bias, relu) and all three gradients, at 1 and 2 threads, against
// reference(): exact for the direct kernels (integer data), to rounding for Winograd.
void check_against_reference(const Case& c, const ConvGeometry& g, uint32_t& seed) {
  Shape ws(c.kernel);
  ws.push_back(c.c_in);
  ws.push_back(c.c_out);
  const Tensor x = make(g.input_shape(), seed++, -2, 2, true), w = make(ws, seed++, -2, 2, true);
  const Tensor bias = make({c.c_out}, seed++, -2, 2, true), dy = make(g.output_shape(c.c_out), seed++, -2, 2, true);
  tg::set_num_threads(1);
  const Tensor y1 = tg::conv_engine::forward(x, w, g, {bias.data(), true});
  const Reference want = reference(x, w, bias, dy, y1, g);
  const float tolerance = c.winograd && kHasDirectKernels ? 1e-5f : 0.0f;
  Tensor dx1, dw1;
  for (int threads : {1, 2}) {
    tg::set_num_threads(threads);
    const Tensor y = tg::conv_engine::forward(x, w, g, {bias.data(), true});
    const auto got = tg::conv_engine::backward(x, w, dy, g, {true, true, true, &y});
    const std::string what = c.padding + " " + g.input_shape().str() + " -> " + y.shape().str();
    EXPECT_EQ(y.to_vector(), y1.to_vector()) << what << ": depends on the thread count";
    if (threads == 1) {
      dx1 = got.dx;
      dw1 = got.dw;
    } else {
      EXPECT_EQ(got.dx.to_vector(), dx1.to_vector()) << what << ": the input gradient depends on the thread count";
      EXPECT_EQ(got.dw.to_vector(), dw1.to_vector()) << what << ": the kernel gradient depends on the thread count";
    }
    expect_close(y, want.y, tolerance, what + " forward");
    expect_close(got.dx, want.dx, tolerance, what + " input gradient");
    expect_close(got.dw, want.dw, tolerance, what + " kernel gradient");
    expect_close(got.db, want.db, 0.0f, what + " bias gradient");
  }
}

}  // namespace

TEST(ConvKernels, MatchIm2colForEveryTileShape) {
  const std::vector<Case> cases = {
      {{9, 11}, {3, 3}, {1, 1}, "same", 2, 17, 80, true},   // column groups 4 + 1, masked channels
      {{8, 14}, {3, 3}, {1, 1}, "valid", 3, 32, 32, true},  // the CIFAR network's shape family
      {{7, 9}, {3, 3}, {1, 1}, "valid", 2, 64, 64, true},   // 4 vectors, 6-row tiles, odd outputs
      {{6, 6}, {3, 3}, {1, 1}, "same", 3, 16, 16, true},    // 2x2 tiles (4x4 would not save)
      {{32, 32}, {3, 3}, {1, 1}, "same", 6, 16, 16, true},  // kernel gradient in groups of 4 samples: 4 + 2
      {{8, 8}, {3, 3}, {1, 1}, "same", 2, 8, 32, false},    // too few channels for Winograd
      {{8, 8}, {3, 3}, {2, 2}, "same", 2, 32, 32, false},   // dilated
      {{13}, {3}, {2}, "causal", 2, 5, 48, false},          // 1-D, dilation, all padding on the left
      {{6, 7}, {4, 2}, {2, 1}, "same", 2, 20, 33, false},   // even window: uneven padding; masked tail
      {{4, 5, 6}, {2, 3, 3}, {1, 1, 1}, "same", 2, 3, 16, false},
      {{5, 4, 5}, {3, 2, 2}, {1, 2, 1}, "valid", 1, 19, 100, false},
      {{7}, {5}, {1}, "valid", 3, 20, 33, false},  // 3 outputs: the backward takes im2col (a text CNN's last Conv1D)
  };
  uint32_t seed = 1;
  for (const Case& c : cases) {
    std::vector<int64_t> ones(c.spatial.size(), 1);
    const ConvGeometry g = tg::make_conv_geometry("test", c.batch, c.spatial, c.c_in, c.kernel, c.c_out, ones, c.dil, c.padding);
    ASSERT_EQ(tg::conv_direct::supports(g), kHasDirectKernels) << "stride-1 geometries take the direct kernels";
    ASSERT_EQ(tg::conv_winograd::supports(g), kHasDirectKernels && c.winograd);
    ASSERT_EQ(tg::conv_winograd::supports(tg::conv_direct::input_gradient_geometry(g)), kHasDirectKernels && c.winograd);
    check_against_reference(c, g, seed);
  }
  tg::set_num_threads(2);
}

// Strided geometries (stride 2 and 3, 1-D to 3-D): every padding, pad_before > 0 (same on odd
// sizes), windows smaller than the stride (input-gradient phases with no taps: zeros), masked
// channels, column groups past 64, row tiles with remainders.
TEST(ConvKernels, StridedMatchIm2colForEveryTileShape) {
  struct Strided {
    Case c;
    std::vector<int64_t> strides;
  };
  const std::vector<Strided> cases = {
      {{{32, 32}, {3, 3}, {1, 1}, "same", 2, 16, 32, false}, {2, 2}},   // ResNet's downsampling
      {{{16, 16}, {1, 1}, {1, 1}, "same", 2, 32, 64, false}, {2, 2}},   // its 1x1 shortcut: half the phases without taps
      {{{15, 13}, {3, 3}, {1, 1}, "same", 3, 17, 80, false}, {2, 2}},   // odd: padding before; 4 + 1 column groups
      {{{15, 14}, {3, 3}, {1, 1}, "valid", 2, 3, 20, false}, {2, 2}},   // 3 channels (a stem), masked tail
      {{{11, 12}, {4, 2}, {1, 1}, "same", 2, 8, 33, false}, {3, 2}},    // even window, stride 3
      {{{10, 9}, {3, 3}, {1, 1}, "same", 1, 5, 48, false}, {1, 2}},     // strided along one dim only
      {{{29}, {5}, {1}, "causal", 2, 6, 16, false}, {2}},               // 1-D, all padding on the left
      {{{7, 6, 9}, {3, 2, 3}, {1, 1, 1}, "same", 2, 4, 16, false}, {2, 2, 3}},
  };
  uint32_t seed = 100;
  for (const Strided& s : cases) {
    const Case& c = s.c;
    const ConvGeometry g = tg::make_conv_geometry("test", c.batch, c.spatial, c.c_in, c.kernel, c.c_out, s.strides, c.dil, c.padding);
    ASSERT_EQ(tg::conv_strided::supports(g), kHasDirectKernels) << "strided geometries take the strided kernels";
    ASSERT_FALSE(tg::conv_direct::supports(g));
    check_against_reference(c, g, seed);
  }
  // Dilated strided convolutions stay on im2col.
  const ConvGeometry dilated = tg::make_conv_geometry("test", 1, {9, 9}, 4, {3, 3}, 4, {2, 2}, {2, 2}, "same");
  EXPECT_FALSE(tg::conv_strided::supports(dilated));
  tg::set_num_threads(2);
}

TEST(ConvKernels, WinogradRoundingStaysNearTheExactProducts) {
  // Ordinary data through the CIFAR network's 3x3 shapes: the transforms add a few roundings per
  // output and per kernel-gradient entry (measured up to 5e-6 of the largest value with 4x4
  // tiles, 7e-7 with 2x2), far below anything training could notice.
  for (const auto& [hw, c_in, c_out, padding] : std::vector<std::tuple<int64_t, int64_t, int64_t, std::string>>{
           {32, 32, 32, "valid"}, {15, 32, 64, "same"}, {15, 64, 64, "valid"}}) {
    const ConvGeometry g = tg::make_conv_geometry("test", 2, {hw, hw}, c_in, {3, 3}, c_out, {1, 1}, {1, 1}, padding);
    const Tensor x = tapegrad::testing::normal(g.input_shape(), 7), w = tapegrad::testing::normal({3, 3, c_in, c_out}, 8);
    const Tensor dy = tapegrad::testing::normal(g.output_shape(c_out), 9);
    const Tensor y = tg::conv_engine::forward(x, w, g);
    const Tensor dw = tg::conv_engine::backward(x, w, dy, g, {.dw = true}).dw;
    // References in double from the patches.
    const int64_t positions = g.out_positions(), k = 9 * c_in, in_size = g.in_positions() * c_in;
    std::vector<float> col(static_cast<size_t>(positions * k));
    std::vector<double> dw_ref(static_cast<size_t>(k * c_out), 0.0);
    double y_err = 0.0, y_scale = 0.0, dw_err = 0.0, dw_scale = 0.0;
    for (int64_t b = 0; b < g.batch; ++b) {
      tg::conv_engine::im2col(x.data() + b * in_size, g, col.data());
      for (int64_t p = 0; p < positions; ++p)
        for (int64_t o = 0; o < c_out; ++o) {
          const double d = dy.data()[(b * positions + p) * c_out + o];
          double s = 0.0;
          for (int64_t i = 0; i < k; ++i) {
            const double patch = col[static_cast<size_t>(p * k + i)];
            s += patch * w.data()[i * c_out + o];
            dw_ref[static_cast<size_t>(i * c_out + o)] += patch * d;
          }
          y_err = std::max(y_err, std::abs(s - y.data()[(b * positions + p) * c_out + o]));
          y_scale = std::max(y_scale, std::abs(s));
        }
    }
    for (size_t i = 0; i < dw_ref.size(); ++i) {
      dw_err = std::max(dw_err, std::abs(dw_ref[i] - dw.data()[i]));
      dw_scale = std::max(dw_scale, std::abs(dw_ref[i]));
    }
    const std::string what = std::to_string(hw) + "x" + std::to_string(hw) + "x" + std::to_string(c_in) + " -> " + std::to_string(c_out);
    EXPECT_LT(y_err, 1.5e-5 * y_scale) << what << ": output error " << y_err << " against outputs up to " << y_scale;
    EXPECT_LT(dw_err, 1.5e-5 * dw_scale) << what << ": kernel gradient error " << dw_err << " against entries up to " << dw_scale;
  }
}
