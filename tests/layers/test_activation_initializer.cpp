// Activations by name and as callables; initializers' formulas (Keras fans and variances).
#include <gtest/gtest.h>

#include <cmath>

#include "../error_matchers.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/activation.h"
#include "tapegrad/layers/initializer.h"

namespace tg = tapegrad;
using tg::Shape;
using tg::Tensor;
using tg::Variable;

namespace {
double mean_of(const Tensor& t) { return tg::sum_all(t) / static_cast<double>(t.numel()); }
double variance_of(const Tensor& t) {
  const double m = mean_of(t);
  return tg::squared_norm(tg::add(t, static_cast<float>(-m))) / static_cast<double>(t.numel());
}
}  // namespace

TEST(Activation, NamesResolveToTheirFunctions) {
  const Variable x(Tensor::from({1, 3}, {-2.0f, 0.5f, 3.0f}));
  EXPECT_TRUE(tg::allclose(tg::Activation("relu")(x).value(), Tensor::from({1, 3}, {0.0f, 0.5f, 3.0f})));
  EXPECT_TRUE(tg::allclose(tg::Activation("linear")(x).value(), x.value()));
  EXPECT_TRUE(tg::Activation().is_linear());
  EXPECT_NEAR(tg::Activation("sigmoid")(x).value().data()[0], 1.0 / (1.0 + std::exp(2.0)), 1e-6);
  EXPECT_NEAR(tg::Activation("tanh")(x).value().data()[2], std::tanh(3.0), 1e-6);
  EXPECT_NEAR(tg::Activation("exponential")(x).value().data()[1], std::exp(0.5), 1e-5);
  const Tensor sm = tg::Activation("softmax")(x).value();
  const double z = std::exp(-2.0) + std::exp(0.5) + std::exp(3.0);
  EXPECT_NEAR(sm.data()[2], std::exp(3.0) / z, 1e-6);
  EXPECT_NEAR(tg::Activation("log_softmax")(x).value().data()[0], -2.0 - std::log(z), 1e-5);
}

TEST(Activation, CustomCallable) {
  tg::Activation square([](const Variable& v) { return v * v; }, "square");
  EXPECT_EQ(square.name(), "square");
  EXPECT_FLOAT_EQ(square(Variable(Tensor::scalar(3.0f))).item(), 9.0f);
  EXPECT_ERROR(tg::Activation(tg::ActivationFn(), "empty"), {"empty"});
}

TEST(Activation, UnknownNameListsTheKnownOnes) {
  EXPECT_ERROR(tg::Activation("rellu"), {"Activation", "'rellu'", "relu", "softmax", "tanh"});
  const auto names = tg::activation_names();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
}

TEST(Initializer, KerasFansForDenseAndConvKernels) {
  const auto dense = tg::compute_fans({16, 32});
  EXPECT_EQ(dense.fan_in, 16);
  EXPECT_EQ(dense.fan_out, 32);
  // Conv2D kernel (3, 3, in=8, out=4): receptive field 9.
  const auto conv = tg::compute_fans({3, 3, 8, 4});
  EXPECT_EQ(conv.fan_in, 72);
  EXPECT_EQ(conv.fan_out, 36);
  const auto bias = tg::compute_fans({5});
  EXPECT_EQ(bias.fan_in, 5);
  EXPECT_EQ(bias.fan_out, 5);
}

TEST(Initializer, VarianceScalingFamilyHasKerasVariances) {
  tg::Rng rng(11);
  const Shape shape{3, 3, 64, 128};  // fan_in 576, fan_out 1152
  const double fan_in = 576, fan_out = 1152, fan_avg = (fan_in + fan_out) / 2;
  struct Case {
    const char* name;
    double variance;
    bool uniform;
  };
  const Case cases[] = {{"glorot_uniform", 1 / fan_avg, true}, {"glorot_normal", 1 / fan_avg, false},
                        {"he_uniform", 2 / fan_in, true},      {"he_normal", 2 / fan_in, false},
                        {"lecun_uniform", 1 / fan_in, true},   {"lecun_normal", 1 / fan_in, false}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const Tensor w = tg::Initializer(c.name)(shape, rng);
    EXPECT_EQ(w.shape(), shape);
    EXPECT_NEAR(mean_of(w), 0.0, 0.01 * std::sqrt(c.variance));
    EXPECT_NEAR(variance_of(w), c.variance, 0.02 * c.variance);
    const double bound = c.uniform ? std::sqrt(3 * c.variance) : 2 * std::sqrt(c.variance) / 0.87962566103423978;
    const Tensor m = tg::max(tg::abs(w));
    EXPECT_LE(m.item(), bound * (1 + 1e-6));
    EXPECT_GT(m.item(), bound * 0.95) << "draws reach close to the bound";
  }
}

TEST(Initializer, ConstantsAndSmallRandoms) {
  tg::Rng rng(12);
  EXPECT_EQ(tg::sum_all(tg::Initializer("zeros")({4, 5}, rng)), 0.0);
  EXPECT_EQ(tg::sum_all(tg::Initializer("ones")({4, 5}, rng)), 20.0);
  const Tensor n = tg::Initializer("random_normal")({200, 500}, rng);
  EXPECT_NEAR(std::sqrt(variance_of(n)), 0.05, 0.001);
  const Tensor u = tg::Initializer("random_uniform")({200, 500}, rng);
  EXPECT_LE(tg::max(tg::abs(u)).item(), 0.05f);
  EXPECT_NEAR(variance_of(u), 0.1 * 0.1 / 12, 0.02 * 0.1 * 0.1 / 12);
}

TEST(Initializer, SeededAndReproducible) {
  tg::Rng a(99), b(99);
  EXPECT_TRUE(tg::allclose(tg::Initializer("he_normal")({10, 10}, a), tg::Initializer("he_normal")({10, 10}, b), 0, 0));
}

TEST(Initializer, CustomAndErrors) {
  tg::Initializer sevens([](const Shape& s, tg::Rng&) { return Tensor::full(s, 7.0f); }, "sevens");
  tg::Rng rng;
  EXPECT_EQ(sevens({2}, rng).data()[1], 7.0f);
  EXPECT_ERROR(tg::Initializer("glorot"), {"Initializer", "'glorot'", "glorot_uniform", "he_normal", "zeros"});
  EXPECT_ERROR(tg::variance_scaling(1.0, "fan_sum", "uniform"), {"variance_scaling", "fan_sum"});
  EXPECT_ERROR(tg::variance_scaling(0.0, "fan_in", "uniform"), {"variance_scaling", "scale"});
  EXPECT_ERROR(tg::variance_scaling(1.0, "fan_in", "cauchy"), {"cauchy"});
}
