// batch_norm_train: forward against the formula, the batch statistics, and the backward (x,
// gamma, beta) against finite differences for channels-last, channels-first and 2-D inputs.
#include <gtest/gtest.h>

#include <cmath>

#include "../error_matchers.h"
#include "tapegrad/autograd/nn_ops.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/parallel.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"
#include "gradcheck_strength.h"

namespace tg = tapegrad;
using gradcheck_strength::detects_10_percent_error;
using gradcheck_strength::passes;
using tg::Shape;
using tg::Tensor;
using tg::Variable;
using Vars = std::vector<Variable>;

namespace {
Tensor normal(const Shape& s, uint64_t seed, float mean = 0.0f, float stddev = 1.0f) {
  tg::Rng rng(seed);
  return Tensor::randn(s, rng, mean, stddev);
}
}  // namespace

TEST(BatchNormOp, ForwardMatchesTheFormulaPerChannel) {
  const Tensor x = normal({6, 3, 4}, 1, 2.0f, 3.0f);  // channels on axis 1
  const Tensor gamma = Tensor::from({3}, {1.5f, -0.5f, 2.0f}), beta = Tensor::from({3}, {0.1f, 0.2f, -0.3f});
  const auto r = tg::batch_norm_train(Variable(x), Variable(gamma), Variable(beta), 1, 1e-3f);
  for (int64_t c = 0; c < 3; ++c) {
    double m = 0, v = 0;
    for (int64_t n = 0; n < 6; ++n)
      for (int64_t j = 0; j < 4; ++j) m += x.at({n, c, j});
    m /= 24;
    for (int64_t n = 0; n < 6; ++n)
      for (int64_t j = 0; j < 4; ++j) v += (x.at({n, c, j}) - m) * (x.at({n, c, j}) - m);
    v /= 24;  // biased
    EXPECT_NEAR(r.mean.data()[c], m, 1e-5);
    EXPECT_NEAR(r.variance.data()[c], v, 1e-4);
    for (int64_t n = 0; n < 6; ++n)
      for (int64_t j = 0; j < 4; ++j)
        EXPECT_NEAR(r.y.value().at({n, c, j}), gamma.data()[c] * (x.at({n, c, j}) - m) / std::sqrt(v + 1e-3) + beta.data()[c],
                    1e-4);
  }
}

// The statistics come from one pass of shifted sums: a channel far from zero with a small
// spread (where E[x^2] - mean^2 in float would lose every digit) keeps its variance.
TEST(BatchNormOp, VarianceOfAnOffsetChannelIsExact) {
  const int64_t n = 64 * 8 * 8, C = 3;
  Tensor x = normal({64, 8, 8, C}, 7, 0.0f, 1.0f);
  const float offsets[C] = {1.0e4f, -3.0e3f, 0.0f}, spreads[C] = {0.01f, 0.5f, 2.0f};
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < C; ++c) x.data()[i * C + c] = offsets[c] + spreads[c] * x.data()[i * C + c];
  const auto r = tg::batch_norm_train(Variable(x), Variable(), Variable(), -1, 1e-3f);
  for (int64_t c = 0; c < C; ++c) {
    double m = 0, v = 0;
    for (int64_t i = 0; i < n; ++i) m += x.data()[i * C + c];
    m /= static_cast<double>(n);
    for (int64_t i = 0; i < n; ++i) v += (x.data()[i * C + c] - m) * (x.data()[i * C + c] - m);
    v /= static_cast<double>(n);
    EXPECT_NEAR(r.mean.data()[c], m, 1e-6 * std::abs(m) + 1e-6) << "channel " << c;
    EXPECT_NEAR(r.variance.data()[c], v, 1e-5 * v) << "channel " << c;
  }
}

TEST(BatchNormGradcheck, ChannelsLastWithGammaAndBeta) {
  const Tensor x = normal({4, 3, 3, 2}, 2, 0.5f, 2.0f);
  const Tensor gamma = Tensor::from({2}, {1.3f, -0.7f}), beta = Tensor::from({2}, {0.2f, -0.1f});
  const auto f = [](const Vars& v) { return tg::batch_norm_train(v[0], v[1], v[2], -1, 1e-3f).y; };
  EXPECT_TRUE(passes(f, {x, gamma, beta}));
  EXPECT_TRUE(detects_10_percent_error(f, {x, gamma, beta}));
}

TEST(BatchNormGradcheck, ChannelsFirstAnd2DAndWithoutScaleOrCenter) {
  const Tensor x4 = normal({3, 2, 3, 3}, 3);
  const Tensor g2 = Tensor::from({2}, {0.8f, 1.7f});
  const auto first = [](const Vars& v) { return tg::batch_norm_train(v[0], v[1], Variable(), 1, 1e-3f).y; };
  EXPECT_TRUE(passes(first, {x4, g2}));
  EXPECT_TRUE(detects_10_percent_error(first, {x4, g2}));
  const Tensor x2 = normal({8, 5}, 4, -1.0f, 0.5f);
  const auto dense = [](const Vars& v) { return tg::batch_norm_train(v[0], Variable(), v[1], -1, 1e-3f).y; };
  EXPECT_TRUE(passes(dense, {x2, normal({5}, 5)}));
  EXPECT_TRUE(detects_10_percent_error(dense, {x2, normal({5}, 5)}));
}

TEST(BatchNormGradcheck, FusedRelu) {
  // Values near +-1 and +-2 (jittered) keep every output at least 0.1 away from the kink, where
  // finite differences would straddle it.
  Tensor x = normal({4, 3, 3, 2}, 2, 0.0f, 0.02f);
  const float levels[4] = {-2.0f, -1.0f, 1.0f, 2.0f};
  for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] += levels[(i / 2) % 4];
  const Tensor gamma = Tensor::from({2}, {1.3f, -0.7f}), beta = Tensor::from({2}, {0.4f, -0.3f});
  const auto f = [](const Vars& v) { return tg::batch_norm_train(v[0], v[1], v[2], -1, 1e-3f, true).y; };
  EXPECT_TRUE(passes(f, {x, gamma, beta}));
  EXPECT_TRUE(detects_10_percent_error(f, {x, gamma, beta}));
}

// The fused op is relu(batch_norm(x)) to the bit, forward and backward, channels last and first.
TEST(BatchNormOp, FusedReluIsBatchNormThenRelu) {
  for (int axis : {-1, 1}) {
    const Tensor x = normal({16, 5, 5, 8}, 11), dy = normal({16, 5, 5, 8}, 12);
    const Tensor gamma = normal({axis == -1 ? 8 : 5}, 13), beta = normal({axis == -1 ? 8 : 5}, 14);
    Vars fused{Variable(x, true), Variable(gamma, true), Variable(beta, true)};
    Vars plain{Variable(x, true), Variable(gamma, true), Variable(beta, true)};
    const Variable yf = tg::batch_norm_train(fused[0], fused[1], fused[2], axis, 1e-3f, true).y;
    const Variable yp = tg::relu(tg::batch_norm_train(plain[0], plain[1], plain[2], axis, 1e-3f).y);
    EXPECT_EQ(yf.value().to_vector(), yp.value().to_vector()) << "axis " << axis;
    yf.backward(dy);
    yp.backward(dy);
    for (size_t i = 0; i < 3; ++i)
      EXPECT_EQ(fused[i].grad().to_vector(), plain[i].grad().to_vector()) << "axis " << axis << ", gradient " << i;
  }
}

TEST(BatchNormGradcheck, FusedAddAndRelu) {
  // As above: bn(x) + r stays at least 0.1 from the kink, so x and r sit at jittered levels.
  Tensor x = normal({4, 3, 3, 2}, 3, 0.0f, 0.02f), r = normal({4, 3, 3, 2}, 4, 0.0f, 0.02f);
  const float levels[4] = {-2.0f, -1.0f, 1.0f, 2.0f};
  for (int64_t i = 0; i < x.numel(); ++i) {
    x.data()[i] += levels[(i / 2) % 4];
    r.data()[i] += 0.25f * levels[(i / 3) % 4];
  }
  const Tensor gamma = Tensor::from({2}, {1.3f, -0.7f}), beta = Tensor::from({2}, {0.4f, -0.3f});
  for (bool relu : {false, true}) {
    const auto f = [relu](const Vars& v) { return tg::batch_norm_train(v[0], v[1], v[2], -1, 1e-3f, relu, v[3]).y; };
    EXPECT_TRUE(passes(f, {x, gamma, beta, r})) << "relu " << relu;
    EXPECT_TRUE(detects_10_percent_error(f, {x, gamma, beta, r})) << "relu " << relu;
  }
}

// With a residual, the fused op is relu(batch_norm(x) + r) (or batch_norm(x) + r) to the bit,
// forward and backward, the residual's gradient included.
TEST(BatchNormOp, FusedAddIsBatchNormThenAddThenRelu) {
  for (bool relu : {false, true})
    for (int axis : {-1, 1}) {
      const std::string what = std::string(relu ? "add_relu" : "add") + ", axis " + std::to_string(axis);
      const Tensor x = normal({16, 5, 5, 8}, 21), r = normal({16, 5, 5, 8}, 22), dy = normal({16, 5, 5, 8}, 23);
      const Tensor gamma = normal({axis == -1 ? 8 : 5}, 24), beta = normal({axis == -1 ? 8 : 5}, 25);
      Vars fused{Variable(x, true), Variable(gamma, true), Variable(beta, true), Variable(r, true)};
      Vars plain{Variable(x, true), Variable(gamma, true), Variable(beta, true), Variable(r, true)};
      const Variable yf = tg::batch_norm_train(fused[0], fused[1], fused[2], axis, 1e-3f, relu, fused[3]).y;
      Variable yp = tg::add(tg::batch_norm_train(plain[0], plain[1], plain[2], axis, 1e-3f).y, plain[3]);
      if (relu) yp = tg::relu(yp);
      EXPECT_EQ(yf.value().to_vector(), yp.value().to_vector()) << what;
      yf.backward(dy);
      yp.backward(dy);
      for (size_t i = 0; i < 4; ++i)
        EXPECT_EQ(fused[i].grad().to_vector(), plain[i].grad().to_vector()) << what << ", gradient " << i;
    }
}

// Channels last, the passes take 16 channels at a time in vector lanes and the rest one by one:
// 16, 21 (a block and 5) and 35 channels, each variant (plain, relu, add, add + relu), forward
// and every gradient against the formulas evaluated in double.
TEST(BatchNormOp, ChannelsLastLaneBlocksMatchTheFormulaInDouble) {
  for (int64_t C : {16, 21, 35})
    for (int variant = 0; variant < 4; ++variant) {
      const bool relu = variant & 1, add = variant & 2;
      const std::string what = "C " + std::to_string(C) + ", relu " + std::to_string(relu) + ", add " + std::to_string(add);
      const int64_t rows = 5 * 3 * 2;
      const Shape shape{5, 3, 2, C};
      const Tensor x = normal(shape, 31, 0.5f, 2.0f), r = normal(shape, 32), dy = normal(shape, 33);
      const Tensor gamma = normal({C}, 34), beta = normal({C}, 35);
      Vars v{Variable(x, true), Variable(gamma, true), Variable(beta, true), Variable(r, true)};
      const Variable y = tg::batch_norm_train(v[0], v[1], v[2], -1, 1e-3f, relu, add ? v[3] : Variable()).y;
      y.backward(dy);
      for (int64_t c = 0; c < C; ++c) {
        double m = 0, var = 0;
        for (int64_t i = 0; i < rows; ++i) m += x.data()[i * C + c];
        m /= rows;
        for (int64_t i = 0; i < rows; ++i) var += (x.data()[i * C + c] - m) * (x.data()[i * C + c] - m);
        var /= rows;
        const double invstd = 1.0 / std::sqrt(var + 1e-3), gm = gamma.data()[c];
        std::vector<double> xhat(rows), g(rows);
        double sum_g = 0, sum_gh = 0;
        for (int64_t i = 0; i < rows; ++i) {
          const int64_t at = i * C + c;
          xhat[i] = (x.data()[at] - m) * invstd;
          double out = gm * xhat[i] + beta.data()[c] + (add ? r.data()[at] : 0.0);
          g[i] = dy.data()[at];
          if (relu && out <= 0) out = 0, g[i] = 0;
          ASSERT_NEAR(y.value().data()[at], out, 1e-5 * (1 + std::abs(out))) << what << ", element " << at;
          sum_g += g[i];
          sum_gh += g[i] * xhat[i];
        }
        EXPECT_NEAR(v[1].grad().data()[c], sum_gh, 1e-4 * (1 + std::abs(sum_gh))) << what << ", gamma " << c;
        EXPECT_NEAR(v[2].grad().data()[c], sum_g, 1e-4 * (1 + std::abs(sum_g))) << what << ", beta " << c;
        for (int64_t i = 0; i < rows; ++i) {
          const int64_t at = i * C + c;
          const double dx = gm * invstd * (g[i] - sum_g / rows - xhat[i] * sum_gh / rows);
          ASSERT_NEAR(v[0].grad().data()[at], dx, 1e-4 * (1 + std::abs(dx))) << what << ", dx " << at;
          if (add) {
            ASSERT_NEAR(v[3].grad().data()[at], g[i], 1e-6) << what << ", residual " << at;
          }
        }
      }
    }
}

TEST(BatchNormOp, DoesNotDependOnTheThreadCount) {
  const Tensor x = normal({64, 9, 9, 8}, 6);
  const Tensor g = normal({64, 9, 9, 8}, 7);
  Tensor out[2], grad[2];
  const int before = tg::num_threads();
  for (int t = 0; t < 2; ++t) {
    tg::set_num_threads(t + 1);
    Variable xv(x.clone(), true);
    const auto r = tg::batch_norm_train(xv, Variable(), Variable(), -1, 1e-3f);
    r.y.backward(g);
    out[t] = r.y.value();
    grad[t] = xv.grad();
  }
  tg::set_num_threads(before);
  EXPECT_TRUE(tg::allclose(out[0], out[1], 0, 0));
  EXPECT_TRUE(tg::allclose(grad[0], grad[1], 0, 0));
}

TEST(BatchNormOp, Errors) {
  const Variable x(Tensor::ones({4, 3}));
  EXPECT_ERROR(tg::batch_norm_train(x, Variable(Tensor::ones({4})), Variable(), -1, 1e-3f),
               {"batch_norm", "gamma (4,)", "(3,)", "(4, 3)"});
  EXPECT_ERROR(tg::batch_norm_train(x, Variable(), Variable(), 0, 1e-3f), {"batch_norm", "batch axis"});
  EXPECT_ERROR(tg::batch_norm_train(Variable(Tensor::ones({4})), Variable(), Variable(), -1, 1e-3f), {"batch_norm", "(4,)"});
  EXPECT_ERROR(tg::batch_norm_train(x, Variable(), Variable(), -1, 1e-3f, true, Variable(Tensor::ones({4, 1}))),
               {"batch_norm_add_relu", "residual (4, 1)", "(4, 3)"});
}
