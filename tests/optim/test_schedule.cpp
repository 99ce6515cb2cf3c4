// Learning-rate schedules: Keras' formulas at hand-computed steps, and the optimizer evaluating
// its schedule at `iterations` (0 during the first step).
#include <gtest/gtest.h>

#include <cmath>

#include "../error_matchers.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/optim/sgd.h"

namespace tg = tapegrad;
using tg::Tensor;
using tg::Variable;

TEST(Schedule, PiecewiseConstantBoundariesBelongToTheLowerInterval) {
  tg::PiecewiseConstantDecay s({100, 110}, {1.0f, 0.5f, 0.1f});
  EXPECT_FLOAT_EQ(s(0), 1.0f);
  EXPECT_FLOAT_EQ(s(100), 1.0f);
  EXPECT_FLOAT_EQ(s(101), 0.5f);
  EXPECT_FLOAT_EQ(s(110), 0.5f);
  EXPECT_FLOAT_EQ(s(111), 0.1f);
  EXPECT_FLOAT_EQ(s(100000), 0.1f);
}

TEST(Schedule, ExponentialDecaySmoothAndStaircase) {
  tg::ExponentialDecay smooth(0.1f, 10, 0.5f), stairs(0.1f, 10, 0.5f, true);
  EXPECT_FLOAT_EQ(smooth(0), 0.1f);
  EXPECT_NEAR(smooth(5), 0.1 * std::sqrt(0.5), 1e-8);
  EXPECT_FLOAT_EQ(smooth(10), 0.05f);
  EXPECT_FLOAT_EQ(stairs(5), 0.1f);
  EXPECT_FLOAT_EQ(stairs(19), 0.05f);
  EXPECT_FLOAT_EQ(stairs(25), 0.025f);
}

TEST(Schedule, InverseTimeDecay) {
  EXPECT_FLOAT_EQ(tg::InverseTimeDecay(0.1f, 1, 0.5f)(2), 0.05f);
  EXPECT_NEAR(tg::InverseTimeDecay(0.1f, 2, 0.5f)(3), 0.1 / 1.75, 1e-8);
  EXPECT_NEAR(tg::InverseTimeDecay(0.1f, 2, 0.5f, true)(3), 0.1 / 1.5, 1e-8);
}

TEST(Schedule, PolynomialDecayCapsOrCycles) {
  tg::PolynomialDecay capped(0.1f, 10, 0.01f, 2.0f), cycling(0.1f, 10, 0.01f, 2.0f, true);
  EXPECT_FLOAT_EQ(capped(0), 0.1f);
  EXPECT_NEAR(capped(5), 0.09 * 0.25 + 0.01, 1e-8);
  EXPECT_FLOAT_EQ(capped(10), 0.01f);
  EXPECT_FLOAT_EQ(capped(20), 0.01f);
  EXPECT_FLOAT_EQ(cycling(0), 0.1f);
  EXPECT_NEAR(cycling(15), 0.09 * 0.0625 + 0.01, 1e-8);  // decay_steps grows to 20
  EXPECT_FLOAT_EQ(cycling(20), 0.01f);
}

TEST(Schedule, CosineDecayWithAlphaAndWarmup) {
  EXPECT_FLOAT_EQ(tg::CosineDecay(1.0f, 10)(0), 1.0f);
  EXPECT_NEAR(tg::CosineDecay(1.0f, 10)(5), 0.5, 1e-7);
  EXPECT_NEAR(tg::CosineDecay(1.0f, 10)(10), 0.0, 1e-7);
  EXPECT_NEAR(tg::CosineDecay(1.0f, 10, {.alpha = 0.1f})(5), 0.55, 1e-7);
  EXPECT_NEAR(tg::CosineDecay(1.0f, 10, {.alpha = 0.1f})(50), 0.1, 1e-7);
  tg::CosineDecay warm(0.0f, 10, {.warmup_target = 1.0f, .warmup_steps = 5});
  EXPECT_FLOAT_EQ(warm(0), 0.0f);
  EXPECT_NEAR(warm(2), 0.4, 1e-7);
  EXPECT_NEAR(warm(5), 1.0, 1e-7);
  EXPECT_NEAR(warm(10), 0.5, 1e-7);
  EXPECT_NEAR(warm(15), 0.0, 1e-7);
  EXPECT_NEAR(warm(100), 0.0, 1e-7);
}

TEST(Schedule, CosineDecayRestartsLengthensPeriodsAndShrinksPeaks) {
  tg::CosineDecayRestarts s(1.0f, 10, {.t_mul = 2.0f, .m_mul = 0.5f});
  EXPECT_FLOAT_EQ(s(0), 1.0f);
  EXPECT_NEAR(s(5), 0.5, 1e-7);
  EXPECT_NEAR(s(10), 0.5, 1e-7);   // first restart, peak halved; the period is now 20
  EXPECT_NEAR(s(20), 0.25, 1e-7);  // half-way through the second period
  EXPECT_NEAR(s(30), 0.25, 1e-7);  // second restart
  tg::CosineDecayRestarts equal_periods(1.0f, 10, {.t_mul = 1.0f, .m_mul = 0.5f});
  EXPECT_NEAR(equal_periods(15), 0.25, 1e-7);
}

TEST(Schedule, BadArgumentsAreErrors) {
  EXPECT_ERROR(tg::PiecewiseConstantDecay({1, 2}, {1.0f}), {"PiecewiseConstantDecay", "2 boundaries", "1 values"});
  EXPECT_ERROR(tg::PiecewiseConstantDecay({5, 2}, {1.0f, 2.0f, 3.0f}), {"boundaries must increase", "5", "2"});
  EXPECT_ERROR(tg::ExponentialDecay(0.1f, 0, 0.5f), {"ExponentialDecay", "decay_steps", "0"});
  EXPECT_ERROR(tg::CosineDecay(0.1f, 10, {.warmup_target = 1.0f}), {"CosineDecay", "warmup_steps"});
}

TEST(Schedule, OptimizerEvaluatesItAtItsIterationCount) {
  // d loss / d w = 1 everywhere, so SGD moves w by exactly -lr(step) per step.
  auto param = std::make_shared<tg::Parameter>(tg::Parameter{"w", Variable(Tensor::zeros({2}), true)});
  tg::SGD opt({param}, {.learning_rate = tg::PiecewiseConstantDecay({1}, {1.0f, 0.25f})});
  const float expected[] = {-1.0f, -2.0f, -2.25f, -2.5f};  // steps 0 and 1 use 1.0, then 0.25
  for (int step = 0; step < 4; ++step) {
    EXPECT_FLOAT_EQ(opt.learning_rate(), step <= 1 ? 1.0f : 0.25f);
    opt.zero_grad();
    tg::sum(param->var).backward();
    opt.step();
    EXPECT_FLOAT_EQ(param->var.value().to_vector()[0], expected[step]) << "step " << step;
  }
}

TEST(Schedule, UserCallableOfTheStep) {
  auto param = std::make_shared<tg::Parameter>(tg::Parameter{"w", Variable(Tensor::zeros({1}), true)});
  std::vector<int64_t> seen;
  tg::SGD opt({param}, {.learning_rate = [&seen](int64_t step) {
                          seen.push_back(step);
                          return 0.5f / static_cast<float>(step + 1);
                        }});
  for (int step = 0; step < 3; ++step) {
    opt.zero_grad();
    tg::sum(param->var).backward();
    opt.step();
  }
  EXPECT_NEAR(param->var.value().item(), -(0.5f + 0.25f + 0.5f / 3.0f), 1e-6);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), 2);
}

TEST(Schedule, NegativeScheduledRateIsAnErrorNamingTheOptimizer) {
  auto param = std::make_shared<tg::Parameter>(tg::Parameter{"w", Variable(Tensor::zeros({1}), true)});
  EXPECT_ERROR(tg::SGD({param}, {.learning_rate = tg::ExponentialDecay(-0.1f, 10, 0.5f)}),
               {"SGD", "learning_rate", "-0.1", "ExponentialDecay"});
}
