// GaussianNoise, GaussianDropout, AlphaDropout: noise statistics in training (Keras' formulas),
// identity at inference, seeded, and AlphaDropout's mean/variance preservation.
#include <gtest/gtest.h>

#include <cmath>

#include "../error_matchers.h"
#include "tapegrad/autograd/nn_ops.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/alpha_dropout.h"
#include "tapegrad/layers/gaussian_dropout.h"
#include "tapegrad/layers/gaussian_noise.h"

namespace tg = tapegrad;
using tg::Tensor;
using tg::Variable;

namespace {
double mean_of(const Tensor& t) { return tg::sum_all(t) / static_cast<double>(t.numel()); }
double variance_of(const Tensor& t) {
  const double m = mean_of(t);
  return tg::squared_norm(tg::add(t, static_cast<float>(-m))) / static_cast<double>(t.numel());
}
}  // namespace

TEST(GaussianNoise, AddsNoiseOfTheStddevInTrainingOnly) {
  tg::GaussianNoise g(0.4f, {.seed = 1});
  const Tensor x = Tensor::full({300, 300}, 3.0f);
  const Tensor y = g(Variable(x), true).value();
  EXPECT_NEAR(mean_of(y), 3.0, 0.005);
  EXPECT_NEAR(std::sqrt(variance_of(y)), 0.4, 0.004);
  EXPECT_TRUE(tg::allclose(g(Variable(x), false).value(), x, 0, 0));
  EXPECT_ERROR(tg::GaussianNoise(-1.0f), {"GaussianNoise", "stddev"});
}

TEST(GaussianDropout, MultipliesByNoiseOfMeanOneAndKerasStddev) {
  tg::GaussianDropout g(0.2f, {.seed = 2});
  const Tensor x = Tensor::full({300, 300}, 2.0f);
  const Tensor y = g(Variable(x), true).value();
  // stddev of the multiplier: sqrt(rate / (1 - rate)) = 0.5
  EXPECT_NEAR(mean_of(y), 2.0, 0.01);
  EXPECT_NEAR(std::sqrt(variance_of(y)), 2.0 * 0.5, 0.01);
  EXPECT_TRUE(tg::allclose(g(Variable(x), false).value(), x, 0, 0));
}

TEST(AlphaDropout, KeepsZeroMeanUnitVarianceOfSeluActivations) {
  tg::AlphaDropout d(0.2f, {.seed = 3});
  tg::Rng rng(4);
  const Tensor x = Tensor::randn({400, 500}, rng);  // standard normal, as in a self-normalizing net
  const Tensor y = d(Variable(x), true).value();
  EXPECT_NEAR(mean_of(y), 0.0, 0.01);
  EXPECT_NEAR(variance_of(y), 1.0, 0.02);
  // Dropped entries all take the value a * alpha' + b.
  const double alpha_p = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946;
  const double a = 1.0 / std::sqrt(0.8 * (1 + 0.2 * alpha_p * alpha_p)), b = -a * alpha_p * 0.2;
  int64_t dropped = 0;
  for (float v : y.to_vector()) dropped += std::fabs(v - (a * alpha_p + b)) < 1e-5;
  EXPECT_NEAR(static_cast<double>(dropped) / y.numel(), 0.2, 0.005);
  EXPECT_TRUE(tg::allclose(d(Variable(x), false).value(), x, 0, 0));
}

TEST(AlphaDropout, GradientIsTheKeptSlope) {
  tg::AlphaDropout d(0.5f, {.seed = 5});
  Variable x(Tensor::ones({20, 10}), true);
  tg::sum(d(x, true)).backward();
  const double a = 1.0 / std::sqrt(0.5 * (1 + 0.5 * std::pow(1.6732632423543772848170429916717 * 1.0507009873554804934193349852946, 2)));
  for (float g : x.grad().to_vector()) EXPECT_TRUE(g == 0.0f || std::fabs(g - a) < 1e-5) << g;
}
