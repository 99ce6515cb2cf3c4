// Keras' initializers as factories with their arguments: statistics of large draws against the
// formulas (mean, variance, bounds), orthogonality, identity, seeding, names and errors.
#include <gtest/gtest.h>

#include <cmath>

#include "../error_matchers.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/initializer.h"

namespace tg = tapegrad;
namespace init = tapegrad::initializers;
using tg::Shape;
using tg::Tensor;

namespace {
double mean_of(const Tensor& t) { return tg::sum_all(t) / static_cast<double>(t.numel()); }
double variance_of(const Tensor& t) {
  const double m = mean_of(t);
  return tg::squared_norm(tg::add(t, static_cast<float>(-m))) / static_cast<double>(t.numel());
}
double min_of(const Tensor& t) { return -tg::max(tg::neg(t)).item(); }
double max_of(const Tensor& t) { return tg::max(t).item(); }
// Variance of a normal truncated at +-2 standard deviations, relative to the untruncated one.
constexpr double kTruncatedVarianceRatio = 0.87962566103423978 * 0.87962566103423978;
const Shape kLarge{400, 500};  // 200000 draws: the mean's stddev is 0.0022 sigma
}  // namespace

TEST(Initializers, ConstantsZerosOnes) {
  tg::Rng rng(1);
  EXPECT_EQ(tg::sum_all(init::Zeros()({3, 4}, rng)), 0.0);
  EXPECT_EQ(tg::sum_all(init::Ones()({3, 4}, rng)), 12.0);
  const Tensor c = init::Constant(0.25f)({5, 2}, rng);
  for (float v : c.to_vector()) EXPECT_EQ(v, 0.25f);
  EXPECT_EQ(tg::sum_all(tg::Initializer("constant")({4}, rng)), 0.0) << "Keras' Constant() default value is 0";
}

TEST(Initializers, RandomNormalMeanAndStddev) {
  tg::Rng rng(2);
  const Tensor t = init::RandomNormal(1.5f, 0.3f)(kLarge, rng);
  EXPECT_NEAR(mean_of(t), 1.5, 0.003);
  EXPECT_NEAR(std::sqrt(variance_of(t)), 0.3, 0.003);
  const Tensor d = tg::Initializer("random_normal")(kLarge, rng);  // Keras: mean 0, stddev 0.05
  EXPECT_NEAR(mean_of(d), 0.0, 0.0005);
  EXPECT_NEAR(std::sqrt(variance_of(d)), 0.05, 0.0005);
}

TEST(Initializers, RandomUniformBoundsMeanAndVariance) {
  tg::Rng rng(3);
  const Tensor t = init::RandomUniform(-1.0f, 3.0f)(kLarge, rng);
  EXPECT_GE(min_of(t), -1.0);
  EXPECT_LT(max_of(t), 3.0);
  EXPECT_NEAR(mean_of(t), 1.0, 0.01);
  EXPECT_NEAR(variance_of(t), 16.0 / 12.0, 0.02 * 16.0 / 12.0);
  EXPECT_ERROR(init::RandomUniform(1.0f, 1.0f), {"RandomUniform", "minval"});
}

TEST(Initializers, TruncatedNormalStaysWithinTwoStddevs) {
  tg::Rng rng(4);
  const Tensor t = init::TruncatedNormal(0.5f, 0.2f)(kLarge, rng);
  EXPECT_NEAR(mean_of(t), 0.5, 0.002);
  EXPECT_NEAR(variance_of(t), 0.04 * kTruncatedVarianceRatio, 0.02 * 0.04 * kTruncatedVarianceRatio);
  EXPECT_GE(min_of(t), 0.5 - 0.4 - 1e-6);
  EXPECT_LE(max_of(t), 0.5 + 0.4 + 1e-6);
  EXPECT_LT(min_of(t), 0.5 - 0.39) << "draws reach close to the bound";
}

TEST(Initializers, VarianceScalingEveryModeAndDistribution) {
  const Shape shape{5, 5, 40, 80};  // conv kernel: fan_in 1000, fan_out 2000
  const double fans[] = {1000.0, 2000.0, 1500.0};
  const char* modes[] = {"fan_in", "fan_out", "fan_avg"};
  for (int m = 0; m < 3; ++m)
    for (const char* dist : {"truncated_normal", "untruncated_normal", "uniform", "normal"}) {
      SCOPED_TRACE(std::string(modes[m]) + " " + dist);
      tg::Rng rng(5);
      const double variance = 3.0 / fans[m];
      const Tensor t = init::VarianceScaling(3.0, modes[m], dist)(shape, rng);
      EXPECT_NEAR(mean_of(t), 0.0, 0.02 * std::sqrt(variance));  // 5 standard errors of 80000 draws
      EXPECT_NEAR(variance_of(t), variance, 0.02 * variance);
      const std::string d = dist;
      const double bound = d == "uniform" ? std::sqrt(3 * variance)
                           : d == "untruncated_normal" ? 1e9
                                                       : 2 * std::sqrt(variance) / 0.87962566103423978;
      EXPECT_LE(std::max(max_of(t), -min_of(t)), bound * (1 + 1e-6));
    }
  // Keras' default: scale 1, fan_in, truncated normal.
  tg::Rng rng(6);
  EXPECT_NEAR(variance_of(init::VarianceScaling()(shape, rng)), 1.0 / 1000, 0.02 / 1000);
}

TEST(Initializers, NamedFamilyFactoriesMatchTheirFormulas) {
  const Shape shape{200, 300};
  struct Case {
    tg::Initializer init;
    double variance;
  };
  const Case cases[] = {{init::GlorotNormal(), 2.0 / 500}, {init::GlorotUniform(), 2.0 / 500},
                        {init::HeNormal(), 2.0 / 200},     {init::HeUniform(), 2.0 / 200},
                        {init::LecunNormal(), 1.0 / 200},  {init::LecunUniform(), 1.0 / 200}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.init.name());
    tg::Rng rng(7);
    EXPECT_NEAR(variance_of(c.init(shape, rng)), c.variance, 0.03 * c.variance);
  }
}

TEST(Initializers, OrthogonalRowsOrColumnsAreOrthonormal) {
  tg::Rng rng(8);
  for (const Shape& shape : {Shape{30, 12}, Shape{12, 30}, Shape{3, 3, 4, 16}}) {
    SCOPED_TRACE(shape.str());
    const Tensor w = init::Orthogonal(2.0f)(shape, rng);
    ASSERT_EQ(w.shape(), shape);
    const int64_t cols = shape[shape.rank() - 1], rows = shape.numel() / cols;
    const Tensor m = w.reshape({rows, cols});
    // The smaller side is orthonormal (times gain^2 = 4).
    const Tensor gram = rows >= cols ? tg::matmul(m, m, true, false) : tg::matmul(m, m, false, true);
    const int64_t n = std::min(rows, cols);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) EXPECT_NEAR(gram.at({i, j}), i == j ? 4.0 : 0.0, 1e-4);
  }
  EXPECT_ERROR(init::Orthogonal()({5}, rng), {"Orthogonal", "(5,)"});
}

TEST(Initializers, IdentityIsGainTimesEye) {
  tg::Rng rng(9);
  const Tensor w = init::Identity(0.5f)({2, 3}, rng);
  EXPECT_TRUE(tg::allclose(w, Tensor::from({2, 3}, {0.5f, 0, 0, 0, 0.5f, 0})));
  EXPECT_ERROR(init::Identity()({2, 2, 2}, rng), {"Identity", "2-D", "(2, 2, 2)"});
}

TEST(Initializers, SeededInitializersAreReproducible) {
  tg::Rng a(1), b(2);
  // A seed fixes the values whatever generator the caller hands over, call after call.
  const auto he = init::HeNormal(42);
  EXPECT_TRUE(tg::allclose(he({8, 8}, a), he({8, 8}, b), 0, 0));
  EXPECT_TRUE(tg::allclose(init::Orthogonal(1.0f, 3)({6, 6}, a), init::Orthogonal(1.0f, 3)({6, 6}, b), 0, 0));
  EXPECT_TRUE(tg::allclose(init::TruncatedNormal(0, 1, 5)({50}, a), init::TruncatedNormal(0, 1, 5)({50}, b), 0, 0));
  // Different seeds differ; unseeded ones follow the caller's generator.
  EXPECT_FALSE(tg::allclose(init::RandomUniform(-1, 1, 1)({50}, a), init::RandomUniform(-1, 1, 2)({50}, a)));
  tg::Rng c(77), d(77);
  EXPECT_TRUE(tg::allclose(init::GlorotUniform()({9, 9}, c), init::GlorotUniform()({9, 9}, d), 0, 0));
}

TEST(Initializers, EveryNameResolvesAndUnknownOnesListThem) {
  const std::vector<std::string> expected = {
      "constant",     "glorot_normal", "glorot_uniform", "he_normal",        "he_uniform",       "identity",
      "lecun_normal", "lecun_uniform", "normal",         "ones",             "orthogonal",       "random_normal",
      "random_uniform", "truncated_normal", "uniform",   "variance_scaling", "zeros"};
  EXPECT_EQ(tg::initializer_names(), expected);
  tg::Rng rng(10);
  for (const auto& name : expected) {
    SCOPED_TRACE(name);
    EXPECT_EQ(tg::Initializer(name)({4, 4}, rng).shape(), Shape({4, 4}));
  }
  EXPECT_ERROR(tg::Initializer("xavier"), {"Initializer", "'xavier'", "glorot_uniform", "orthogonal", "identity"});
  EXPECT_ERROR(init::VarianceScaling(1.0, "fan_sum"), {"variance_scaling", "fan_sum", "fan_avg"});
}
