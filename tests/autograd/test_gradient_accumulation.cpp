// Gradients added in place: when an intermediate tensor feeds several ops, the tape offers the
// gradient already summed for it to the next backward (GradSink::accumulator) if nothing else
// holds that tensor, and a convolution adds its input gradient into it as it writes (no separate
// add pass). Checked: the tape offers it only when that is safe; the sum is right on every
// convolution path; and the convolution really adds in place (the summed gradient arrives in the
// same buffer the earlier consumer made).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../error_matchers.h"
#include "../test_data.h"
#include "autograd/conv_engine.h"
#include "tapegrad/tapegrad.h"

namespace tg = tapegrad;
using tg::Shape;
using tg::Tensor;
using tg::Variable;
using tg::testing::make;

namespace {

// An identity op that notes, in its backward, the data pointer of the gradient it receives
// (the sum over everything its output fed).
Variable watched_identity(const Variable& x, const float** received) {
  return tg::record("watched_identity", x.value(), {x}, [received](const Tensor& g, tg::GradSink& s) {
    *received = g.data();
    s.set(0, g.clone());
  });
}

// y = x * k, whose backward makes a fresh gradient and notes where it put it.
Variable scaled(const Variable& x, float k, const float** made) {
  return tg::record("scaled", tg::mul(x.value(), k), {x}, [k, made](const Tensor& g, tg::GradSink& s) {
    Tensor d = tg::mul(g, k);
    *made = d.data();
    s.set(0, std::move(d));
  });
}

double max_difference(const Tensor& a, const Tensor& b) {
  double m = 0.0;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, static_cast<double>(std::abs(a.data()[i] - b.data()[i])));
  return m;
}

}  // namespace

TEST(GradientAccumulation, TheTapeOffersTheSummedGradientOnlyWhenItAloneHoldsIt) {
  Variable x(make({2, 3}, 1), true);
  // An op whose backward adds into the offered accumulator when there is one.
  bool offered = false;
  auto adding = [&offered](const Variable& in) {
    return tg::record("adding", in.value(), {in}, [&offered](const Tensor& g, tg::GradSink& s) {
      Tensor* into = s.accumulator(0);
      offered = into != nullptr;
      if (!into) return s.set(0, g.clone());
      for (int64_t i = 0; i < g.numel(); ++i) into->data()[i] += g.data()[i];
      s.added(0);
    });
  };
  {
    const float* made = nullptr;
    const Variable h = x * 1.0f;
    const Variable a = tg::sum(adding(h));
    const Variable b = tg::sum(scaled(h, 3.0f, &made));  // recorded after: its backward runs first
    (a + b).backward();
    EXPECT_TRUE(offered) << "scaled's fresh gradient is held by the tape alone";
    for (int64_t i = 0; i < x.numel(); ++i) EXPECT_FLOAT_EQ(x.grad().data()[i], 4.0f);
  }
  x.zero_grad();
  {
    // add's backward hands the same tensor (the caller's seed) to both inputs: not offered, and
    // the seed is left as it was.
    const Variable h = x * 1.0f;
    const Variable y = adding(h) + h;
    const Tensor seed = make(y.shape(), 2);
    const std::vector<float> before = seed.to_vector();
    y.backward(seed);
    EXPECT_FALSE(offered);
    EXPECT_EQ(seed.to_vector(), before) << "the seed was changed";
    for (int64_t i = 0; i < x.numel(); ++i) EXPECT_FLOAT_EQ(x.grad().data()[i], 2.0f * before[static_cast<size_t>(i)]);
  }
  x.zero_grad();
  {
    // A leaf's gradient is never offered (the variable keeps it).
    const Variable a = tg::sum(adding(x));
    const Variable b = tg::sum(x * 2.0f);
    (a + b).backward();
    EXPECT_FALSE(offered);
    for (int64_t i = 0; i < x.numel(); ++i) EXPECT_FLOAT_EQ(x.grad().data()[i], 3.0f);
  }
}

TEST(GradientAccumulation, AddingWithoutAnAccumulatorIsAnError) {
  const Variable x(make({2}, 1), true);
  const Variable y = tg::record("bad_add", x.value(), {x}, [](const Tensor&, tg::GradSink& s) { s.added(0); });
  EXPECT_ERROR(tg::sum(y).backward(), {"bad_add", "added"});
}

TEST(GradientAccumulation, AConvolutionAddsItsInputGradientIntoTheSumOnEveryPath) {
  struct Case {
    std::string what;
    Shape x;
    std::vector<int64_t> kernel;
    int64_t c_out;
    tg::ConvParams params;
    tg::Dtype dtype;
    bool in_place;  // whether this path adds as it writes (else: as the engine says)
  };
  const tg::ConvParams same{{1, 1}, {1, 1}, "same"};
  const std::vector<Case> cases{
      {"Winograd 3x3", {2, 9, 10, 16}, {3, 3}, 16, same, tg::Dtype::float32, true},
      {"direct 5x5", {2, 7, 6, 8}, {5, 5}, 12, same, tg::Dtype::float32, true},
      {"im2col (dilated)", {2, 9, 9, 4}, {3, 3}, 8, {{1, 1}, {2, 2}, "same"}, tg::Dtype::float32, true},
      // The AVX-512 strided kernel's input gradient writes by phases (no adding); without
      // AVX-512 the geometry goes through im2col, which adds.
      {"strided", {2, 9, 9, 8}, {3, 3}, 8, {{2, 2}, {1, 1}, "same"}, tg::Dtype::float32, false},
      {"bf16 3x3", {2, 9, 10, 16}, {3, 3}, 16, same, tg::Dtype::bfloat16, true},
      {"bf16 strided", {2, 9, 9, 16}, {3, 3}, 16, {{2, 2}, {1, 1}, "same"}, tg::Dtype::bfloat16, true},
  };
  for (const Case& c : cases) {
    Shape ws(c.kernel);
    ws.push_back(c.x[c.x.rank() - 1]);
    ws.push_back(c.c_out);
    const Tensor x0 = make(c.x, 3), w = make(ws, 4);
    auto forward = [&](const Variable& h) {
      const tg::ComputeDtypeScope scope(c.dtype);
      return tg::conv(h, Variable(w), c.params);
    };
    // The reference: each consumer's gradient on its own, added.
    Variable xa(x0, true), xb(x0, true);
    const Variable ya = forward(xa);
    const Tensor dy = make(ya.shape(), 5);
    ya.backward(dy);
    const float* unused = nullptr;
    tg::sum(scaled(xb, 0.5f, &unused)).backward();
    const Tensor want = tg::add(xb.grad(), xa.grad());

    Variable x(x0, true);
    const float *received = nullptr, *made = nullptr;
    const Variable h = watched_identity(x, &received);
    const Variable y = forward(h);                        // recorded first: its backward runs last
    const Variable z = tg::sum(scaled(h, 0.5f, &made));  // its gradient for h is made first
    (tg::sum(y * Variable(dy)) + z).backward();
    EXPECT_LT(max_difference(x.grad(), want), 1e-5 * (1.0 + max_difference(want, Tensor::zeros(want.shape())))) << c.what;
    const tg::ConvGeometry g = tg::conv_geometry("conv", c.x, c.kernel, c.c_out, c.params);
    const bool adds = tg::conv_engine::adds_input_gradient(g, c.dtype);
    if (c.in_place) EXPECT_TRUE(adds) << c.what;
    EXPECT_EQ(received == made, adds) << c.what << ": the convolution " << (adds ? "did not add" : "added") << " in place";
  }
}
