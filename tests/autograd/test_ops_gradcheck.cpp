// Every differentiable op's backward against finite differences, with broadcasting and the
// options that change the backward (axes, keepdims, transposes, steps).
#include <gtest/gtest.h>

#include "../test_data.h"
#include "gradcheck_strength.h"

#include "tapegrad/autograd/gradcheck.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"

namespace tg = tapegrad;
using tg::Shape;
using tg::Tensor;
using tg::Variable;
using Vars = std::vector<Variable>;
using gradcheck_strength::passes;
using tapegrad::testing::normal;
using tapegrad::testing::uniform;

namespace {

// Values in [0.3, 1.5] with random signs: away from 0, where abs/relu/clip have kinks.
Tensor away_from_zero(const Shape& s, uint64_t seed) {
  Tensor mag = uniform(s, 0.3f, 1.5f, seed);
  Tensor sgn = tg::sign(normal(s, seed + 77));
  return tg::mul(mag, sgn);
}

}  // namespace

TEST(OpsGradcheck, AddSubMulDivSameShape) {
  const Tensor a = normal({3, 4}, 1), b = uniform({3, 4}, 0.5f, 2.0f, 2);
  EXPECT_TRUE(passes([](const Vars& v) { return v[0] + v[1]; }, {a, b}));
  EXPECT_TRUE(passes([](const Vars& v) { return v[0] - v[1]; }, {a, b}));
  EXPECT_TRUE(passes([](const Vars& v) { return v[0] * v[1]; }, {a, b}));
  EXPECT_TRUE(passes([](const Vars& v) { return v[0] / v[1]; }, {a, b}));
}

TEST(OpsGradcheck, BinaryOpsBroadcast) {
  const Tensor a = normal({2, 3, 4}, 3);
  const Tensor row = uniform({4}, 0.5f, 2.0f, 4), col = uniform({3, 1}, 0.5f, 2.0f, 5), s = uniform({}, 0.5f, 2.0f, 6);
  for (const Tensor& b : {row, col, s}) {
    EXPECT_TRUE(passes([](const Vars& v) { return v[0] + v[1]; }, {a, b}));
    EXPECT_TRUE(passes([](const Vars& v) { return v[0] - v[1]; }, {a, b}));
    EXPECT_TRUE(passes([](const Vars& v) { return v[0] * v[1]; }, {a, b}));
    EXPECT_TRUE(passes([](const Vars& v) { return v[0] / v[1]; }, {a, b}));
    EXPECT_TRUE(passes([](const Vars& v) { return v[1] / v[0]; }, {uniform({2, 3, 4}, 0.5f, 2.0f, 7), b}));
  }
  // Both sides broadcast: (3, 1) with (1, 4).
  EXPECT_TRUE(passes([](const Vars& v) { return v[0] * v[1]; }, {normal({3, 1}, 8), normal({1, 4}, 9)}));
}

TEST(OpsGradcheck, ScalarArithmeticAndNeg) {
  const Tensor a = normal({5}, 10);
  EXPECT_TRUE(passes([](const Vars& v) { return v[0] * 2.5f; }, {a}));
  EXPECT_TRUE(passes([](const Vars& v) { return 1.5f - v[0]; }, {a}));
  EXPECT_TRUE(passes([](const Vars& v) { return v[0] / 4.0f + 1.0f; }, {a}));
  EXPECT_TRUE(passes([](const Vars& v) { return -v[0]; }, {a}));
}

TEST(OpsGradcheck, ExpLogSqrtPow) {
  const Tensor pos = uniform({3, 3}, 0.5f, 2.0f, 11);
  EXPECT_TRUE(passes([](const Vars& v) { return tg::exp(v[0]); }, {normal({3, 3}, 12)}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::log(v[0]); }, {pos}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::sqrt(v[0]); }, {pos}));
  for (float p : {2.0f, 3.0f, 0.5f, -1.5f})
    EXPECT_TRUE(passes([p](const Vars& v) { return tg::pow(v[0], p); }, {pos}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::pow(v[0], v[1]); }, {pos, uniform({3, 3}, -1.0f, 2.0f, 13)}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::pow(v[0], v[1]); }, {pos, uniform({3}, -1.0f, 2.0f, 14)}));
}

TEST(OpsGradcheck, AbsClipAndActivations) {
  const Tensor x = away_from_zero({4, 5}, 15);
  EXPECT_TRUE(passes([](const Vars& v) { return tg::abs(v[0]); }, {x}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::relu(v[0]); }, {x}));
  // Some elements inside the bounds (gradient passes), some clipped on either side (none).
  const Tensor c = Tensor::from({2, 4}, {-1.7f, -0.8f, -0.2f, 0.1f, 0.45f, 0.7f, 1.3f, 2.0f});
  EXPECT_TRUE(passes([](const Vars& v) { return tg::clip(v[0], -1.0f, 0.6f); }, {c}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::sigmoid(v[0]); }, {tg::mul(normal({4, 5}, 16), 3.0f)}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::tanh(v[0]); }, {normal({4, 5}, 17)}));
}

TEST(OpsGradcheck, SoftmaxAndLogSoftmaxOnEveryAxis) {
  const Tensor x = tg::mul(normal({3, 4, 5}, 18), 2.0f);
  for (int axis : {0, 1, 2, -1}) {
    EXPECT_TRUE(passes([axis](const Vars& v) { return tg::softmax(v[0], axis); }, {x}));
    EXPECT_TRUE(passes([axis](const Vars& v) { return tg::log_softmax(v[0], axis); }, {x}));
  }
}

TEST(OpsGradcheck, SoftmaxIsStableForHugeLogits) {
  Variable x(Tensor::from({1, 3}, {1000.0f, 0.0f, -1000.0f}), true);
  Variable y = tg::log_softmax(x);
  EXPECT_FLOAT_EQ(y.value().data()[0], 0.0f);
  EXPECT_FLOAT_EQ(y.value().data()[1], -1000.0f);
  Variable p = tg::softmax(Variable(Tensor::from({1, 2}, {1e4f, 1e4f})));
  EXPECT_FLOAT_EQ(p.value().data()[0], 0.5f);
}

TEST(OpsGradcheck, Matmul) {
  EXPECT_TRUE(passes([](const Vars& v) { return tg::matmul(v[0], v[1]); }, {normal({3, 4}, 19), normal({4, 5}, 20)}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::matmul(v[0], v[1]); }, {normal({2, 3, 4}, 21), normal({2, 4, 2}, 22)}));
  // A 2-D right-hand side shared by a batch (Dense on sequences): its gradient sums the batch.
  EXPECT_TRUE(passes([](const Vars& v) { return tg::matmul(v[0], v[1]); }, {normal({2, 3, 4}, 23), normal({4, 3}, 24)}));
}

TEST(OpsGradcheck, SumAndMean) {
  const Tensor x = normal({2, 3, 4}, 25);
  const std::vector<std::vector<int>> axes_cases = {{}, {0}, {1}, {-1}, {0, 2}, {1, 2}};
  for (const auto& axes : axes_cases) {
    for (bool keep : {false, true}) {
      EXPECT_TRUE(passes([axes, keep](const Vars& v) { return tg::sum(v[0], axes, keep); }, {x}));
      EXPECT_TRUE(passes([axes, keep](const Vars& v) { return tg::mean(v[0], axes, keep); }, {x}));
    }
  }
}

TEST(OpsGradcheck, ShapeOps) {
  const Tensor x = normal({2, 3, 4}, 26);
  EXPECT_TRUE(passes([](const Vars& v) { return tg::reshape(v[0], {4, -1}) * tg::reshape(v[0], {4, 6}); }, {x}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::transpose(v[0]); }, {x}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::permute(v[0], {2, 0, 1}); }, {x}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::concat({v[0], v[1], v[0]}, 1); }, {x, normal({2, 2, 4}, 27)}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::concat({v[0], v[1]}, -1); }, {x, normal({2, 3, 1}, 28)}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::slice(v[0], 2, 1, 4); }, {x}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::slice(v[0], 1, 0, 3, 2); }, {x}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::slice(v[0], -1, -3, -1); }, {x}));
}

TEST(OpsGradcheck, ComposedExpression) {
  // A two-layer perceptron with softmax cross-entropy written out by hand.
  auto f = [](const Vars& v) {
    Variable h = tg::tanh(tg::matmul(v[0], v[1]) + v[2]);
    Variable logp = tg::log_softmax(tg::matmul(h, v[3]));
    return tg::neg(tg::mean(tg::sum(logp * Variable(Tensor::from({3, 2}, {1, 0, 0, 1, 1, 0})), {1})));
  };
  EXPECT_TRUE(passes(f, {normal({3, 4}, 29), normal({4, 5}, 30), normal({5}, 31), normal({5, 2}, 32)}));
}
