// Keras' activation ops (autograd/nn_ops.h): every backward against finite differences, on inputs
// away from the kinks, and each check strong enough to catch a backward that is 10% off.
#include <gtest/gtest.h>

#include <cmath>

#include "tapegrad/autograd/nn_ops.h"
#include "tapegrad/autograd/ops.h"
#include "../error_matchers.h"
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

// Values in [0.2, 3] with random signs: away from 0, where relu-like ops have kinks.
Tensor away_from_zero(const Shape& s, uint64_t seed) {
  tg::Rng rng(seed);
  Tensor mag = Tensor::rand(s, rng, 0.2f, 3.0f);
  Tensor sgn = tg::sign(Tensor::randn(s, rng));
  return tg::mul(mag, sgn);
}

void check(const tg::GradcheckFn& f, const Tensor& x) {
  EXPECT_TRUE(passes(f, {x}));
  EXPECT_TRUE(detects_10_percent_error(f, {x}));
}

}  // namespace

TEST(NnActivationGradcheck, ElementwiseActivations) {
  const Tensor x = away_from_zero({4, 6}, 1);
  SCOPED_TRACE("elementwise");
  check([](const Vars& v) { return tg::leaky_relu(v[0], 0.2f); }, x);
  check([](const Vars& v) { return tg::elu(v[0], 1.0f); }, x);
  check([](const Vars& v) { return tg::elu(v[0], 0.5f); }, x);
  check([](const Vars& v) { return tg::selu(v[0]); }, x);
  check([](const Vars& v) { return tg::gelu(v[0], false); }, x);
  check([](const Vars& v) { return tg::gelu(v[0], true); }, x);
  check([](const Vars& v) { return tg::softplus(v[0]); }, x);
  check([](const Vars& v) { return tg::softsign(v[0]); }, x);
  check([](const Vars& v) { return tg::swish(v[0]); }, x);
  check([](const Vars& v) { return tg::erf(v[0]); }, tg::mul(x, 0.5f));
}

TEST(NnActivationGradcheck, HardSigmoidInsideAndOutsideItsRamp) {
  // -2.5 < x < 2.5 passes 0.2 g; outside the gradient is 0.
  const Tensor x = Tensor::from({2, 4}, {-4.0f, -2.0f, -1.1f, -0.3f, 0.4f, 1.7f, 2.3f, 3.5f});
  check([](const Vars& v) { return tg::hard_sigmoid(v[0]); }, x);
}

TEST(NnActivationGradcheck, ReluWithKerasOptions) {
  // Points away from 0, the threshold 0.5 and max_value 2.
  const Tensor x = Tensor::from({2, 5}, {-2.2f, -0.7f, -0.2f, 0.2f, 0.8f, 1.1f, 1.6f, 2.4f, 3.0f, -1.3f});
  check([](const Vars& v) { return tg::relu(v[0], tg::ReLUParams{}); }, x);
  check([](const Vars& v) { return tg::relu(v[0], {.negative_slope = 0.1f}); }, x);
  check([](const Vars& v) { return tg::relu(v[0], {.max_value = 2.0f}); }, x);
  check([](const Vars& v) { return tg::relu(v[0], {.negative_slope = 0.3f, .max_value = 2.0f, .threshold = 0.5f}); }, x);
  check([](const Vars& v) { return tg::relu(v[0], {.threshold = 0.5f}); }, x);
}

TEST(NnActivationGradcheck, PReluGradientsForInputAndSharedAlpha) {
  const Tensor x = away_from_zero({3, 2, 4}, 2);
  tg::Rng rng(3);
  // One alpha per element of a sample, and one per channel (shared over axis 1).
  for (const Shape& alpha_shape : {Shape{2, 4}, Shape{1, 4}}) {
    const Tensor alpha = Tensor::rand(alpha_shape, rng, 0.1f, 0.6f);
    const auto f = [](const Vars& v) { return tg::prelu(v[0], v[1]); };
    EXPECT_TRUE(passes(f, {x, alpha}));
    EXPECT_TRUE(detects_10_percent_error(f, {x, alpha}));
  }
}

TEST(NnActivationGradcheck, PReluRejectsAnAlphaThatEnlargesTheInput) {
  EXPECT_ERROR(tg::prelu(Variable(Tensor::ones({2, 3})), Variable(Tensor::ones({4, 2, 3}))), {"prelu", "(4, 2, 3)", "(2, 3)"});
}
