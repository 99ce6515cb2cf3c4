// dropout_mask and apply_mask: the mask's values, drop fraction and thread independence; the
// masked multiply's backward (same-shape and broadcast masks) against finite differences.
#include <gtest/gtest.h>

#include "../error_matchers.h"
#include "tapegrad/autograd/nn_ops.h"
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

TEST(DropoutOps, MaskHoldsZeroOrInverseKeepProbabilityAtTheRightRate) {
  tg::Rng rng(5);
  const Tensor m = tg::dropout_mask({400, 500}, 0.3f, rng);
  int64_t zeros = 0;
  for (float v : m.to_vector()) {
    if (v == 0.0f)
      ++zeros;
    else
      ASSERT_FLOAT_EQ(v, 1.0f / 0.7f);
  }
  // 200000 Bernoulli(0.3) draws: stddev of the fraction ~0.001.
  EXPECT_NEAR(static_cast<double>(zeros) / m.numel(), 0.3, 0.005);
  // The survivors' scale keeps the mean: E[mask] = 1.
  EXPECT_NEAR(tg::sum_all(m) / m.numel(), 1.0, 0.01);
  // It consumed ceil(n / 4) Philox blocks.
  EXPECT_EQ(rng.state().counter, 200000u / 4);
}

TEST(DropoutOps, MaskDoesNotDependOnTheThreadCount) {
  const int before = tg::num_threads();
  tg::set_num_threads(1);
  tg::Rng a(9);
  const Tensor one = tg::dropout_mask({300, 301}, 0.5f, a);
  tg::set_num_threads(2);
  tg::Rng b(9);
  const Tensor two = tg::dropout_mask({300, 301}, 0.5f, b);
  tg::set_num_threads(before);
  EXPECT_TRUE(tg::allclose(one, two, 0, 0));
  EXPECT_EQ(a.state(), b.state());
}

TEST(DropoutOps, RateZeroKeepsEverythingAndBadRatesAreErrors) {
  tg::Rng rng(1);
  EXPECT_EQ(tg::sum_all(tg::dropout_mask({10, 10}, 0.0f, rng)), 100.0);
  EXPECT_ERROR(tg::dropout_mask({3}, 1.0f, rng), {"dropout_mask", "rate", "[0, 1)"});
  EXPECT_ERROR(tg::dropout_mask({3}, -0.1f, rng), {"dropout_mask", "rate"});
}

TEST(DropoutGradcheck, ApplyMaskWithAFixedMask) {
  tg::Rng rng(2);
  const Tensor x = Tensor::randn({4, 3, 5}, rng);
  const Tensor same = tg::dropout_mask({4, 3, 5}, 0.4f, rng);
  const Tensor spatial = tg::dropout_mask({4, 1, 5}, 0.4f, rng);  // broadcast over axis 1
  for (const Tensor& mask : {same, spatial}) {
    const auto f = [mask](const Vars& v) { return tg::apply_mask(v[0], mask); };
    EXPECT_TRUE(passes(f, {x}));
    EXPECT_TRUE(detects_10_percent_error(f, {x}));
  }
}

TEST(DropoutOps, ApplyMaskValuesAndShapeErrors) {
  const Tensor x = Tensor::arange(6).reshape({2, 3});
  const Tensor mask = Tensor::from({2, 1}, {0.0f, 2.0f});
  EXPECT_TRUE(tg::allclose(tg::apply_mask(Variable(x), mask).value(), Tensor::from({2, 3}, {0, 0, 0, 6, 8, 10})));
  EXPECT_ERROR(tg::apply_mask(Variable(x), Tensor::ones({4, 2, 3})), {"apply_mask", "(4, 2, 3)", "(2, 3)"});
}
