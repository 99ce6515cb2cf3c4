// Dropout: inverted dropout in training (drop fraction, scale), identity at inference, noise_shape
// sharing, seeded and replayable through rng(), errors naming the layer and shapes.
#include <gtest/gtest.h>

#include "../error_matchers.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/dropout.h"

namespace tg = tapegrad;
using tg::Tensor;
using tg::Variable;

TEST(Dropout, IdentityAtInference) {
  tg::Dropout d(0.5f);
  const Tensor x = Tensor::arange(12).reshape({3, 4});
  EXPECT_TRUE(d(Variable(x), false).value().shares_storage(x));
}

TEST(Dropout, TrainingDropsTheRateAndScalesSurvivors) {
  tg::Dropout d(0.25f, {.seed = 1});
  const Tensor x = Tensor::full({300, 400}, 2.0f);
  const Tensor y = d(Variable(x), true).value();
  int64_t zeros = 0;
  for (float v : y.to_vector()) {
    if (v == 0.0f)
      ++zeros;
    else
      ASSERT_FLOAT_EQ(v, 2.0f / 0.75f);
  }
  EXPECT_NEAR(static_cast<double>(zeros) / y.numel(), 0.25, 0.005);
}

TEST(Dropout, GradientIsTheSameMask) {
  tg::Dropout d(0.5f, {.seed = 2});
  Variable x(Tensor::ones({6, 5}), true);
  const Variable y = d(x, true);
  tg::sum(y).backward();
  EXPECT_TRUE(tg::allclose(x.grad(), y.value()));  // x = 1: y is the mask itself
}

TEST(Dropout, NoiseShapeSharesOneDrawAlongSizeOneDims) {
  // (batch, steps, features) with noise_shape (None, 1, None): the same features dropped at every step.
  tg::Dropout d(0.5f, {.noise_shape = {-1, 1, -1}, .seed = 3});
  const Tensor y = d(Variable(Tensor::ones({4, 7, 6})), true).value();
  for (int64_t b = 0; b < 4; ++b)
    for (int64_t f = 0; f < 6; ++f)
      for (int64_t t = 1; t < 7; ++t) ASSERT_EQ(y.at({b, t, f}), y.at({b, 0, f}));
  EXPECT_ERROR(tg::Dropout(0.5f, {.noise_shape = {-1, 3, -1}, .name = "drop"})(Variable(Tensor::ones({4, 7, 6})), true),
               {"Dropout 'drop'", "noise_shape (None, 3, None)", "(4, 7, 6)", "dim 1"});
  EXPECT_ERROR(tg::Dropout(0.5f, {.noise_shape = {-1, 1}, .name = "drop2"})(Variable(Tensor::ones({4, 7, 6})), true),
               {"Dropout 'drop2'", "noise_shape", "(4, 7, 6)"});
}

TEST(Dropout, SeedAndRngStateReplayTheMasks) {
  tg::Dropout a(0.5f, {.seed = 7}), b(0.5f, {.seed = 7});
  const Variable x(Tensor::ones({10, 10}));
  EXPECT_TRUE(tg::allclose(a(x, true).value(), b(x, true).value(), 0, 0));
  const tg::Rng::State saved = a.rng().state();
  const Tensor next = a(x, true).value();
  EXPECT_FALSE(tg::allclose(next, b(x, false).value())) << "a new draw each call";
  a.rng().set_state(saved);
  EXPECT_TRUE(tg::allclose(a(x, true).value(), next, 0, 0));
}

TEST(Dropout, UnseededLayersDrawTheirSeedFromTheDefaultGenerator) {
  tg::manual_seed(11);
  tg::Dropout a(0.5f);
  tg::manual_seed(11);
  tg::Dropout b(0.5f);
  EXPECT_EQ(a.rng().state(), b.rng().state());
  tg::Dropout c(0.5f);
  EXPECT_NE(b.rng().state(), c.rng().state());
}

TEST(Dropout, Errors) {
  EXPECT_ERROR(tg::Dropout(1.0f, {.name = "d"}), {"Dropout 'd'", "rate", "[0, 1)"});
  EXPECT_ERROR(tg::Dropout(-0.5f), {"Dropout", "rate"});
}

TEST(Dropout, GeneratorsAreListedForCheckpoints) {
  tg::Dropout d(0.5f, {.name = "drop_ckpt"});
  const auto gens = d.random_generators();
  ASSERT_EQ(gens.size(), 1u);
  EXPECT_EQ(gens[0].first, "drop_ckpt/rng");
  EXPECT_EQ(gens[0].second, &d.rng());
}
