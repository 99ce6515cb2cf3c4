// Every Keras activation by name and by factory, against its formula computed in double here
// (and Keras' documented values where they exist); a wrong formula or default fails.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "../error_matchers.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/activation.h"

namespace tg = tapegrad;
using tg::Tensor;
using tg::Variable;

namespace {

const std::vector<float> kPoints = {-7.0f, -3.0f, -2.6f, -1.0f, -0.4f, 0.0f, 0.3f, 1.0f, 2.4f, 3.0f, 6.5f, 20.0f};

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

void expect_matches(const tg::Activation& act, const std::function<double(double)>& formula, double tol = 1e-5) {
  SCOPED_TRACE(act.name());
  const Tensor x = Tensor::from({static_cast<int64_t>(kPoints.size())}, kPoints);
  const Tensor y = act(Variable(x)).value();
  for (size_t i = 0; i < kPoints.size(); ++i)
    EXPECT_NEAR(y.data()[i], formula(kPoints[i]), tol * std::max(1.0, std::fabs(formula(kPoints[i])))) << "x = " << kPoints[i];
}

}  // namespace

TEST(Activations, PiecewiseLinearOnes) {
  expect_matches("linear", [](double x) { return x; });
  expect_matches("relu", [](double x) { return std::max(x, 0.0); });
  expect_matches("relu6", [](double x) { return std::min(std::max(x, 0.0), 6.0); });
  expect_matches("leaky_relu", [](double x) { return x > 0 ? x : 0.2 * x; });
  expect_matches(tg::Activation::leaky_relu(0.05f), [](double x) { return x > 0 ? x : 0.05 * x; });
  // Keras 2.15: 0 below -2.5, 1 above 2.5, 0.2 x + 0.5 between.
  expect_matches("hard_sigmoid", [](double x) { return x < -2.5 ? 0.0 : x > 2.5 ? 1.0 : 0.2 * x + 0.5; });
  const Tensor doc = tg::Activation("hard_sigmoid")(Variable(Tensor::from({5}, {-3, -1, 0, 1, 3}))).value();
  EXPECT_TRUE(tg::allclose(doc, Tensor::from({5}, {0.0f, 0.3f, 0.5f, 0.7f, 1.0f}), 1e-6f, 1e-7f));
}

TEST(Activations, ReluWithKerasArguments) {
  // Keras' backend.relu(x, alpha, max_value, threshold).
  expect_matches(tg::Activation::relu({.max_value = 2.5f}), [](double x) { return std::min(std::max(x, 0.0), 2.5); });
  expect_matches(tg::Activation::relu({.negative_slope = 0.1f}), [](double x) { return x > 0 ? x : 0.1 * x; });
  expect_matches(tg::Activation::relu({.threshold = 1.0f}), [](double x) { return x > 1.0 ? x : 0.0; });
  expect_matches(tg::Activation::relu({.negative_slope = 0.5f, .max_value = 3.0f, .threshold = -1.0f}), [](double x) {
    return x >= 3.0 ? 3.0 : x > -1.0 ? std::max(x, 0.0) : 0.5 * (x + 1.0);
  });
  const Tensor keras = tg::Activation::relu({.negative_slope = 0.5f, .max_value = 5.0f, .threshold = 1.0f})(
                           Variable(Tensor::from({5}, {-10, -5, 0, 5, 10})))
                           .value();
  // tf.keras.activations.relu([-10, -5, 0, 5, 10], alpha=0.5, max_value=5, threshold=1)
  // -> [-5.5, -3., -0.5, 5., 5.]
  EXPECT_TRUE(tg::allclose(keras, Tensor::from({5}, {-5.5f, -3.0f, -0.5f, 5.0f, 5.0f})));
  EXPECT_ERROR(tg::Activation::relu({.max_value = -1.0f}), {"relu", "max_value"});
}

TEST(Activations, ExponentialFamily) {
  expect_matches("elu", [](double x) { return x > 0 ? x : std::expm1(x); });
  expect_matches(tg::Activation::elu(0.5f), [](double x) { return x > 0 ? x : 0.5 * std::expm1(x); });
  const double a = 1.6732632423543772848170429916717, s = 1.0507009873554804934193349852946;
  expect_matches("selu", [=](double x) { return s * (x > 0 ? x : a * std::expm1(x)); });
  expect_matches("sigmoid", sigmoid);
  expect_matches("softplus", [](double x) { return std::log1p(std::exp(x)); });
  expect_matches("softsign", [](double x) { return x / (1 + std::fabs(x)); });
  expect_matches("tanh", [](double x) { return std::tanh(x); });
  expect_matches("swish", [](double x) { return x * sigmoid(x); });
  expect_matches("silu", [](double x) { return x * sigmoid(x); });
  expect_matches("exponential", [](double x) { return std::exp(x); });
}

TEST(Activations, GeluExactAndTanhApproximation) {
  const auto exact = [](double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); };
  const auto approx = [](double x) {
    return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
  };
  expect_matches("gelu", exact);  // Keras' default: approximate=False
  expect_matches(tg::Activation::gelu(false), exact);
  expect_matches(tg::Activation::gelu(true), approx);
  // The two differ by more than the tolerance somewhere, so a swap would fail.
  EXPECT_GT(std::fabs(exact(-2.6) - approx(-2.6)), 1e-4);
}

TEST(Activations, SoftmaxAndLogSoftmaxOnAnyAxis) {
  const Tensor x = Tensor::from({2, 3}, {1, 2, 3, -1, 0, 4});
  const Tensor rows = tg::Activation("softmax")(Variable(x)).value();
  const double z0 = std::exp(1) + std::exp(2) + std::exp(3);
  EXPECT_NEAR(rows.at({0, 0}), std::exp(1) / z0, 1e-6);
  const Tensor cols = tg::Activation::softmax(0)(Variable(x)).value();
  EXPECT_NEAR(cols.at({0, 1}), std::exp(2) / (std::exp(2) + std::exp(0)), 1e-6);
  EXPECT_NEAR(cols.at({0, 2}) + cols.at({1, 2}), 1.0, 1e-6);
  const Tensor log_cols = tg::Activation::log_softmax(0)(Variable(x)).value();
  EXPECT_NEAR(log_cols.at({1, 0}), -1 - std::log(std::exp(1) + std::exp(-1)), 1e-5);
}

TEST(Activations, RegistryListsEveryName) {
  const std::vector<std::string> expected = {"elu",     "exponential", "gelu",    "hard_sigmoid", "leaky_relu", "linear",
                                             "log_softmax", "relu",    "relu6",   "selu",         "sigmoid",    "silu",
                                             "softmax", "softplus",    "softsign", "swish",       "tanh"};
  EXPECT_EQ(tg::activation_names(), expected);
  EXPECT_ERROR(tg::Activation("gelu_tanh"), {"Activation", "'gelu_tanh'", "gelu", "hard_sigmoid", "swish"});
}

TEST(Activations, BackwardFlowsThroughNamedActivations) {
  for (const char* name : {"relu6", "leaky_relu", "elu", "selu", "gelu", "hard_sigmoid", "swish", "softplus", "softsign"}) {
    SCOPED_TRACE(name);
    Variable x(Tensor::from({3}, {-0.5f, 0.5f, 1.5f}), true);
    tg::sum(tg::Activation(name)(x)).backward();
    ASSERT_TRUE(x.grad().defined());
    EXPECT_GT(x.grad().data()[2], 0.0f);
  }
}
