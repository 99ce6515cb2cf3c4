// BatchNormalization: training uses the batch statistics and updates the moving ones with Keras'
// rule; inference uses the moving ones; gradcheck in training mode; parameters and buffers.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "../autograd/gradcheck_strength.h"
#include "../error_matchers.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/profiler.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/activation_layers.h"
#include "tapegrad/layers/batch_normalization.h"
#include "tapegrad/layers/sequential.h"
#include "tapegrad/layers/dense.h"

namespace tg = tapegrad;
using tg::Shape;
using tg::Tensor;
using tg::Variable;
using Vars = std::vector<Variable>;

TEST(BatchNormalization, WeightsAndNonTrainableMovingStatistics) {
  tg::BatchNormalization bn({.name = "bn"});
  bn.build({5, 5, 8});
  ASSERT_EQ(bn.parameters().size(), 4u);  // gamma, beta, moving_mean, moving_variance, as Keras
  EXPECT_EQ(bn.parameters()[2]->name, "moving_mean") << "a path from the layer it was listed from";
  tg::Sequential model({tg::BatchNormalization({.name = "bn"})});
  model.build({5, 5, 8});
  EXPECT_EQ(model.parameters()[2]->name, "bn/moving_mean");
  EXPECT_EQ(bn.trainable_parameters().size(), 2u);
  EXPECT_EQ(bn.count_params(), 32);
  // Unfreezing must not make the moving statistics trainable.
  bn.set_trainable(false);
  bn.set_trainable(true);
  EXPECT_EQ(bn.trainable_parameters().size(), 2u);
  EXPECT_FALSE(bn.moving_variance()->trainable);
  tg::BatchNormalization bare({.center = false, .scale = false});
  bare.build({3});
  EXPECT_EQ(bare.parameters().size(), 2u);
  EXPECT_EQ(bare.gamma(), nullptr);
}

TEST(BatchNormalization, MovingStatisticsFollowKerasUpdateRule) {
  tg::BatchNormalization bn({.momentum = 0.9f});
  tg::Rng rng(1);
  Tensor moving_mean = Tensor::zeros({3}), moving_var = Tensor::ones({3});
  for (int step = 0; step < 4; ++step) {
    const Tensor x = Tensor::randn({16, 3}, rng, static_cast<float>(step), 2.0f);
    bn(Variable(x), true);
    // moving = moving * momentum + batch * (1 - momentum), batch variance over N (not N - 1)
    const Tensor m = tg::mean(x, {0});
    const Tensor v = tg::mean(tg::mul(tg::sub(x, m), tg::sub(x, m)), {0});
    moving_mean = tg::add(tg::mul(moving_mean, 0.9f), tg::mul(m, 0.1f));
    moving_var = tg::add(tg::mul(moving_var, 0.9f), tg::mul(v, 0.1f));
    EXPECT_TRUE(tg::allclose(bn.moving_mean()->var.value(), moving_mean, 1e-5f, 1e-6f)) << "step " << step;
    EXPECT_TRUE(tg::allclose(bn.moving_variance()->var.value(), moving_var, 1e-5f, 1e-6f)) << "step " << step;
  }
  // Inference neither uses nor changes the batch statistics.
  const Tensor before = bn.moving_mean()->var.value().clone();
  const Tensor x = Tensor::randn({4, 3}, rng);
  const Tensor y = bn(Variable(x), false).value();
  EXPECT_TRUE(tg::allclose(bn.moving_mean()->var.value(), before, 0, 0));
  const Tensor expected = tg::div(tg::sub(x, moving_mean), tg::sqrt(tg::add(moving_var, 1e-3f)));
  EXPECT_TRUE(tg::allclose(y, expected, 1e-5f, 1e-6f));
}

TEST(BatchNormalization, TrainingNormalizesEachChannel) {
  tg::BatchNormalization bn({.axis = 1});  // channels_first
  tg::Rng rng(2);
  const Tensor x = Tensor::randn({8, 4, 3, 3}, rng, 5.0f, 3.0f);
  const Tensor y = bn(Variable(x), true).value();
  const Tensor m = tg::mean(y, {0, 2, 3});
  const Tensor v = tg::mean(tg::mul(y, y), {0, 2, 3});
  for (int64_t c = 0; c < 4; ++c) {
    EXPECT_NEAR(m.data()[c], 0.0, 1e-5);
    EXPECT_NEAR(v.data()[c], 1.0, 2e-3);  // var / (var + epsilon)
  }
}

TEST(BatchNormalization, GradcheckInTrainingMode) {
  tg::BatchNormalization bn({.axis = -1});
  bn.build({3, 3, 2});
  tg::Rng rng(3);
  const Tensor x = Tensor::randn({4, 3, 3, 2}, rng, 1.0f, 2.0f);
  const Tensor gamma = Tensor::from({2}, {1.4f, -0.6f}), beta = Tensor::from({2}, {0.3f, 0.1f});
  const auto f = [&](const Vars& v) {
    bn.gamma()->var = v[1];
    bn.beta()->var = v[2];
    return bn(v[0], true);
  };
  EXPECT_TRUE(gradcheck_strength::passes(f, {x, gamma, beta}));
  EXPECT_TRUE(gradcheck_strength::detects_10_percent_error(f, {x, gamma, beta}));
}

TEST(BatchNormalization, GradcheckInInferenceMode) {
  tg::BatchNormalization bn;
  bn.build({3});
  bn.moving_mean()->var.value().copy_from(Tensor::from({3}, {0.5f, -1.0f, 2.0f}));
  bn.moving_variance()->var.value().copy_from(Tensor::from({3}, {2.0f, 0.5f, 1.5f}));
  tg::Rng rng(4);
  const auto f = [&](const Vars& v) {
    bn.gamma()->var = v[1];
    bn.beta()->var = v[2];
    return bn(v[0], false);
  };
  EXPECT_TRUE(gradcheck_strength::passes(f, {Tensor::randn({5, 3}, rng), Tensor::randn({3}, rng), Tensor::randn({3}, rng)}));
}

TEST(BatchNormalization, FrozenLayerRunsInInferenceMode) {
  tg::BatchNormalization bn;
  bn.build({2});
  bn.set_trainable(false);
  bn(Variable(Tensor::full({4, 2}, 7.0f)), true);
  EXPECT_EQ(tg::sum_all(bn.moving_mean()->var.value()), 0.0) << "a frozen layer does not update its statistics";
}

// Sequential runs BatchNormalization + a plain ReLU as one fused op: the same values and
// gradients as the two layers one after the other, in training and inference; a ReLU with a cap
// is not fused and still gives its own result.
TEST(BatchNormalization, SequentialFusesAFollowingReluWithTheSameResults) {
  tg::Rng rng(21);
  const Tensor x = Tensor::randn({8, 4, 4, 6}, rng), dy = Tensor::randn({8, 4, 4, 6}, rng);
  for (float cap : {std::numeric_limits<float>::infinity(), 0.5f}) {
    tg::Sequential model({tg::BatchNormalization({.name = "bn"}), tg::ReLU({.max_value = cap})});
    model.build({4, 4, 6});
    EXPECT_EQ(model.parameters()[0]->name, "bn/gamma");
    auto bn = std::dynamic_pointer_cast<tg::BatchNormalization>(model.layers()[0]);
    auto relu = model.layers()[1];
    bn->gamma()->var.value().copy_from(Tensor::randn({6}, rng));
    bn->beta()->var.value().copy_from(Tensor::randn({6}, rng));
    for (bool training : {true, false}) {
      const std::vector<float> mean_before = bn->moving_mean()->var.value().to_vector();
      Variable xs(x, true);
      tg::profiler::reset();
      tg::profiler::enable();
      const Variable y = model(xs, training);
      tg::profiler::enable(false);
      // The fusion happened (training, plain ReLU) or did not (a cap, or inference).
      const bool fused = tg::profiler::table().find("batch_norm_relu") != std::string::npos;
      EXPECT_EQ(fused, training && std::isinf(cap)) << "max_value " << cap << (training ? ", training" : ", inference");
      y.backward(dy);
      const std::vector<float> fused_mean = bn->moving_mean()->var.value().to_vector();
      const Tensor fused_dx = xs.grad(), fused_dgamma = bn->gamma()->var.grad();
      bn->gamma()->var.zero_grad();
      bn->beta()->var.zero_grad();
      bn->moving_mean()->var.value().copy_from(Tensor::from({6}, mean_before));
      Variable xs2(x, true);
      const Variable y2 = (*relu)((*bn)(xs2, training), training);
      y2.backward(dy);
      const std::string what = std::string(training ? "training" : "inference") + ", max_value " + std::to_string(cap);
      EXPECT_EQ(y.value().to_vector(), y2.value().to_vector()) << what;
      EXPECT_EQ(fused_dx.to_vector(), xs2.grad().to_vector()) << what;
      EXPECT_EQ(fused_dgamma.to_vector(), bn->gamma()->var.grad().to_vector()) << what;
      EXPECT_EQ(fused_mean, bn->moving_mean()->var.value().to_vector()) << what << ": the moving mean";
      bn->gamma()->var.zero_grad();
      bn->beta()->var.zero_grad();
    }
  }
}

// call_add_relu is relu(layer(x) + residual) to the bit, values and every gradient, in training
// (one fused op) and inference; a residual of another shape is refused.
TEST(BatchNormalization, CallAddReluIsTheLayerThenAddThenRelu) {
  tg::Rng rng(31);
  const Tensor x = Tensor::randn({8, 4, 4, 6}, rng), r = Tensor::randn({8, 4, 4, 6}, rng), dy = Tensor::randn({8, 4, 4, 6}, rng);
  tg::BatchNormalization bn({.name = "bn"});
  bn.build({4, 4, 6});
  bn.gamma()->var.value().copy_from(Tensor::randn({6}, rng));
  bn.beta()->var.value().copy_from(Tensor::randn({6}, rng));
  for (bool training : {true, false}) {
    const std::string what = training ? "training" : "inference";
    const std::vector<float> mean_before = bn.moving_mean()->var.value().to_vector();
    Variable xs(x, true), rs(r, true);
    tg::profiler::reset();
    tg::profiler::enable();
    const Variable y = bn.call_add_relu(xs, rs, training);
    tg::profiler::enable(false);
    EXPECT_EQ(tg::profiler::table().find("batch_norm_add_relu") != std::string::npos, training) << what;
    y.backward(dy);
    const Tensor fused_dgamma = bn.gamma()->var.grad().clone();
    bn.gamma()->var.zero_grad();
    bn.beta()->var.zero_grad();
    bn.moving_mean()->var.value().copy_from(Tensor::from({6}, mean_before));
    Variable xs2(x, true), rs2(r, true);
    const Variable y2 = tg::relu(tg::add(bn(xs2, training), rs2));
    y2.backward(dy);
    EXPECT_EQ(y.value().to_vector(), y2.value().to_vector()) << what;
    EXPECT_EQ(xs.grad().to_vector(), xs2.grad().to_vector()) << what;
    EXPECT_EQ(rs.grad().to_vector(), rs2.grad().to_vector()) << what << ": the residual's gradient";
    EXPECT_EQ(fused_dgamma.to_vector(), bn.gamma()->var.grad().to_vector()) << what;
    bn.gamma()->var.zero_grad();
    bn.beta()->var.zero_grad();
  }
  for (bool training : {true, false})
    EXPECT_ERROR(bn.call_add_relu(Variable(x), Variable(Tensor::ones({8, 4, 4, 1})), training),
                 {"residual (8, 4, 4, 1)", "(8, 4, 4, 6)"});
}

TEST(BatchNormalization, Errors) {
  tg::BatchNormalization bn({.axis = 3, .name = "bn"});
  EXPECT_ERROR(bn.output_shape({4, 5}), {"BatchNormalization 'bn'", "axis 3", "(None, 4, 5)"});
  tg::BatchNormalization b2({.name = "bn2"});
  b2.build({4});
  EXPECT_ERROR(b2(Variable(Tensor::ones({2, 5}))), {"BatchNormalization 'bn2'", "(None, 5)", "built for 4"});
  EXPECT_ERROR(tg::BatchNormalization({.momentum = 1.5f}), {"BatchNormalization", "momentum"});
}
