// Regularizers (Keras' formulas, gradients consistent with the penalty op) and constraints.
#include <gtest/gtest.h>

#include <cmath>

#include "../error_matchers.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/constraint.h"
#include "tapegrad/layers/regularizer.h"

namespace tg = tapegrad;
using tg::Tensor;
using tg::Variable;

TEST(Regularizer, L1L2Formulas) {
  const Tensor w = Tensor::from({2, 2}, {1.0f, -2.0f, 0.5f, 0.0f});
  EXPECT_NEAR(tg::L1(0.1f)->value(w), 0.1 * 3.5, 1e-7);
  EXPECT_NEAR(tg::L2(0.1f)->value(w), 0.1 * 5.25, 1e-7);
  EXPECT_NEAR(tg::L1L2(0.1f, 0.2f).value(w), 0.1 * 3.5 + 0.2 * 5.25, 1e-6);
  EXPECT_NEAR(tg::L1L2(0.1f, 0.2f).penalty(Variable(w)).item(), 0.1 * 3.5 + 0.2 * 5.25, 1e-6);
}

TEST(Regularizer, HookGradientEqualsThePenaltyOpsGradient) {
  const Tensor w = Tensor::from({3}, {1.5f, -0.5f, 2.0f});
  const tg::L1L2 reg(0.3f, 0.7f);
  Variable v(w.clone(), true);
  reg.penalty(v).backward();
  Tensor hook = Tensor::zeros({3});
  reg.add_gradient(w, hook);
  EXPECT_TRUE(tg::allclose(hook, v.grad(), 1e-6f, 1e-7f));
  // l1 sign(w) + 2 l2 w
  EXPECT_NEAR(hook.data()[1], -0.3 + 2 * 0.7 * -0.5, 1e-6);
}

TEST(Regularizer, RejectsNegativeFactors) { EXPECT_ERROR(tg::L1L2(-0.1f, 0.0f), {"L1L2", "non-negative"}); }

TEST(Constraint, MaxNormRescalesColumnsAboveTheLimit) {
  // Dense kernel (in=2, out=2): column norms 5 and 0.5; max 2 rescales only the first.
  Tensor w = Tensor::from({2, 2}, {3.0f, 0.3f, 4.0f, 0.4f});
  tg::MaxNorm(2.0f).apply(w);
  EXPECT_NEAR(w.at({0, 0}), 3.0f * 2.0f / 5.0f, 1e-5);
  EXPECT_NEAR(w.at({1, 0}), 4.0f * 2.0f / 5.0f, 1e-5);
  EXPECT_NEAR(w.at({0, 1}), 0.3f, 1e-6);
  EXPECT_NEAR(w.at({1, 1}), 0.4f, 1e-6);
}

TEST(Constraint, MaxNormOverConvAxes) {
  // (k, k, in, out) with axes {0, 1, 2}: one norm per output filter.
  tg::Rng rng(3);
  Tensor w = tg::mul(Tensor::randn({3, 3, 4, 5}, rng), 3.0f);
  tg::MaxNorm(1.0f, {0, 1, 2}).apply(w);
  const Tensor norms = tg::sqrt(tg::sum(tg::mul(w, w), {0, 1, 2}));
  for (float n : norms.to_vector()) EXPECT_NEAR(n, 1.0f, 1e-5);
  EXPECT_ERROR(tg::MaxNorm(1.0f, {4}).apply(w), {"MaxNorm", "axis 4"});
  EXPECT_ERROR(tg::MaxNorm(0.0f), {"MaxNorm", "max_value"});
}

TEST(Constraint, NonNeg) {
  Tensor w = Tensor::from({3}, {-1.0f, 0.0f, 2.0f});
  tg::NonNeg().apply(w);
  EXPECT_TRUE(tg::allclose(w, Tensor::from({3}, {0.0f, 0.0f, 2.0f})));
}
