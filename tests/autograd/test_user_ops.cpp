// A user's own op and activation with public headers only (issue 13, point 11): pointwise(f, df)
// gives a fused differentiable op, register_activation makes it a name every layer accepts.
#include <gtest/gtest.h>

#include <cmath>

#include "../error_matchers.h"
#include "gradcheck_strength.h"
#include "tapegrad/tapegrad.h"

namespace tg = tapegrad;
using tg::Tensor;
using tg::Variable;

namespace {

// mish(x) = x tanh(softplus(x)); mish'(x) = tanh(sp) + x sech^2(sp) sigmoid(x).
float mish(float v) { return v * std::tanh(std::log1p(std::exp(v))); }
float mish_grad(float v) {
  const float t = std::tanh(std::log1p(std::exp(v)));
  return t + v * (1.0f - t * t) / (1.0f + std::exp(-v));
}
Variable mish_op(const Variable& x) { return tg::pointwise("mish", x, mish, mish_grad); }

}  // namespace

TEST(UserOps, PointwiseMakesADifferentiableOp) {
  tg::Rng rng(2);
  const Tensor x = Tensor::randn({3, 5}, rng);
  const Variable y = mish_op(Variable(x));
  for (int64_t i = 0; i < x.numel(); ++i) EXPECT_FLOAT_EQ(y.value().data()[i], mish(x.data()[i]));
  const tg::GradcheckFn f = [](const std::vector<Variable>& v) { return mish_op(v[0]); };
  EXPECT_TRUE(gradcheck_strength::passes(f, {x}));
  EXPECT_TRUE(gradcheck_strength::detects_10_percent_error(f, {x}));
}

TEST(UserOps, ARegisteredActivationIsANameEveryLayerAccepts) {
  tg::register_activation("mish_test", mish_op);
  const auto names = tg::activation_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "mish_test"), names.end());
  tg::Dense d(3, {.activation = "mish_test"});
  d.build({2});
  const Tensor x = Tensor::from({1, 2}, {0.5f, -1.0f});
  const Tensor pre = tg::add(tg::matmul(x, d.kernel()->var.value()), d.bias()->var.value());
  const Tensor y = d(Variable(x)).value();
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(y.data()[i], mish(pre.data()[i]), 1e-6);
  EXPECT_ERROR(tg::register_activation("mish_test", mish_op), {"register_activation", "'mish_test'", "already"});
  EXPECT_ERROR(tg::register_activation("relu", mish_op), {"already"});
  EXPECT_ERROR(tg::register_activation("empty", nullptr), {"empty"});
}
