// Activation layers: ActivationLayer, ReLU, LeakyReLU, PReLU (learned, shared axes), ELU, Softmax.
#include <gtest/gtest.h>

#include <cmath>

#include "../autograd/gradcheck_strength.h"
#include "../error_matchers.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/activation_layers.h"
#include "tapegrad/layers/sequential.h"
#include "tapegrad/layers/dense.h"

namespace tg = tapegrad;
using tg::Shape;
using tg::Tensor;
using tg::Variable;
using Vars = std::vector<Variable>;

namespace {
const Tensor kX = Tensor::from({2, 3}, {-2.0f, -0.5f, 0.5f, 1.0f, 4.0f, 8.0f});
}

TEST(ActivationLayers, FixedActivations) {
  EXPECT_TRUE(tg::allclose(tg::ActivationLayer("relu")(Variable(kX)).value(), tg::relu(kX)));
  EXPECT_EQ(tg::ActivationLayer("tanh").type(), "Activation");
  EXPECT_TRUE(tg::allclose(tg::ReLU({.max_value = 6.0f})(Variable(kX)).value(), Tensor::from({2, 3}, {0, 0, 0.5f, 1, 4, 6})));
  EXPECT_TRUE(tg::allclose(tg::ReLU({.negative_slope = 0.1f, .threshold = 1.0f})(Variable(kX)).value(),
                           Tensor::from({2, 3}, {-0.3f, -0.15f, -0.05f, 0, 4, 8})));
  // Keras' LeakyReLU layer default alpha is 0.3.
  EXPECT_TRUE(tg::allclose(tg::LeakyReLU()(Variable(kX)).value(), Tensor::from({2, 3}, {-0.6f, -0.15f, 0.5f, 1, 4, 8})));
  EXPECT_NEAR(tg::ELU(2.0f)(Variable(kX)).value().at({0, 0}), 2.0 * std::expm1(-2.0), 1e-6);
  // Softmax over axis 1 of (batch, 3, 2): each sample's columns sum to 1.
  const Tensor cols = tg::Softmax(1)(Variable(kX.reshape({1, 3, 2}))).value();
  for (int64_t j = 0; j < 2; ++j) EXPECT_NEAR(cols.at({0, 0, j}) + cols.at({0, 1, j}) + cols.at({0, 2, j}), 1.0, 1e-6);
  EXPECT_NEAR(cols.at({0, 0, 0}), std::exp(-2.0) / (std::exp(-2.0) + std::exp(0.5) + std::exp(4.0)), 1e-6);
  EXPECT_ERROR(tg::Softmax(0, {.name = "sm"}).output_shape({3}), {"Softmax 'sm'", "axis 0", "(None, 3)"});
  EXPECT_ERROR(tg::ReLU({.max_value = -1.0f}), {"ReLU", "max_value"});
}

TEST(ActivationLayers, PReLULearnsOneSlopePerSharedGroup) {
  // (batch, rows, cols, channels) with shared_axes {1, 2}: one alpha per channel.
  tg::PReLU p({.alpha_initializer = tg::initializers::Constant(0.25f), .shared_axes = {1, 2}});
  p.build({3, 3, 4});
  EXPECT_EQ(p.alpha()->var.shape(), Shape({1, 1, 4}));
  EXPECT_EQ(p.count_params(), 4);
  const Tensor x = Tensor::full({2, 3, 3, 4}, -2.0f);
  EXPECT_TRUE(tg::allclose(p(Variable(x)).value(), Tensor::full({2, 3, 3, 4}, -0.5f)));
  tg::PReLU full;
  full.build({5});
  EXPECT_EQ(full.alpha()->var.shape(), Shape({5}));
  EXPECT_EQ(tg::sum_all(full.alpha()->var.value()), 0.0) << "Keras' default alpha_initializer is zeros";
  EXPECT_ERROR(tg::PReLU({.shared_axes = {3}, .name = "pr"}).output_shape({4, 4}), {"PReLU 'pr'", "shared axis 3", "(None, 4, 4)"});
}

TEST(ActivationLayers, PReLUGradcheckForInputAndAlpha) {
  tg::PReLU p({.shared_axes = {1}});
  p.build({3, 4});
  tg::Rng rng(3);
  Tensor x = Tensor::randn({2, 3, 4}, rng);
  x = tg::add(x, tg::mul(tg::sign(x), 0.2f));  // away from the kink at 0
  const auto f = [&](const Vars& v) {
    p.alpha()->var = v[1];
    return p(v[0]);
  };
  const std::vector<Tensor> in = {x, Tensor::rand({1, 4}, rng, 0.1f, 0.5f)};
  EXPECT_TRUE(gradcheck_strength::passes(f, in));
  EXPECT_TRUE(gradcheck_strength::detects_10_percent_error(f, in));
}

TEST(ActivationLayers, AutomaticNamesFollowKeras) {
  EXPECT_EQ(tg::ReLU().name().rfind("re_lu", 0), 0u);
  EXPECT_EQ(tg::LeakyReLU().name().rfind("leaky_re_lu", 0), 0u);
  EXPECT_EQ(tg::PReLU().name().rfind("p_re_lu", 0), 0u);
  tg::Sequential model({tg::Dense(4), tg::ActivationLayer("gelu"), tg::Dense(2), tg::Softmax()});
  EXPECT_EQ(model.output_shape({3}), Shape({2}));
}
