// Dense and Sequential: Keras' shapes, parameter counts and summary, lazy building, errors.
#include <gtest/gtest.h>

#include <cmath>

#include "../error_matchers.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/dense.h"
#include "tapegrad/layers/sequential.h"

namespace tg = tapegrad;
using tg::Shape;
using tg::Tensor;
using tg::Variable;

TEST(Dense, ComputesActivationOfXTimesKernelPlusBias) {
  tg::Dense d(2, {.activation = "relu"});
  d.build({3});
  d.kernel()->var.value().copy_from(Tensor::from({3, 2}, {1, -1, 2, 0, -1, 3}));
  d.bias()->var.value().copy_from(Tensor::from({2}, {0.5f, -10.0f}));
  const Variable y = d(Variable(Tensor::from({2, 3}, {1, 2, 3, 0, 1, 0})));
  // row 0: [1+4-3+0.5, -1+0+9-10] = [2.5, -2] -> relu [2.5, 0]; row 1: [2.5, -10] -> [2.5, 0]
  EXPECT_TRUE(tg::allclose(y.value(), Tensor::from({2, 2}, {2.5f, 0.0f, 2.5f, 0.0f})));
}

TEST(Dense, ShapesAndParameterCountsAsKeras) {
  // Keras: Dense(32) on (None, 16) -> (None, 32), 16*32 + 32 params.
  tg::Dense d(32);
  EXPECT_EQ(d.output_shape({16}), Shape({32}));
  // On a 3-D input it acts on the last axis: (None, 10, 16) -> (None, 10, 32).
  EXPECT_EQ(d.output_shape({10, 16}), Shape({10, 32}));
  d.build({16});
  EXPECT_EQ(d.count_params(), 16 * 32 + 32);
  EXPECT_EQ(d.kernel()->var.shape(), Shape({16, 32}));
  tg::Dense no_bias(8, {.use_bias = false});
  no_bias.build({4});
  EXPECT_EQ(no_bias.count_params(), 32);
  EXPECT_EQ(no_bias.bias(), nullptr);
}

TEST(Dense, AppliesToTheLastAxisOfRank3Inputs) {
  tg::Dense d(4);
  const Tensor x = Tensor::arange(24).reshape({2, 3, 4});
  const Variable y = d(Variable(x));
  EXPECT_EQ(y.shape(), Shape({2, 3, 4}));
  // Same as applying it to the (6, 4) matrix of rows.
  const Variable flat = d(Variable(x.reshape({6, 4})));
  EXPECT_TRUE(tg::allclose(y.value().reshape({6, 4}), flat.value()));
}

TEST(Dense, DefaultInitializersAreGlorotUniformAndZeros) {
  tg::Dense d(300);
  d.build({200});
  const float limit = std::sqrt(6.0f / 500.0f);
  for (float w : d.kernel()->var.value().to_vector()) EXPECT_LE(std::fabs(w), limit);
  EXPECT_NEAR(tg::sum_all(tg::abs(d.kernel()->var.value())) / 60000.0, limit / 2, limit * 0.02);
  for (float b : d.bias()->var.value().to_vector()) EXPECT_EQ(b, 0.0f);
}

TEST(Dense, GradientsFlowToKernelAndBias) {
  tg::Dense d(2);
  d.build({3});
  const Tensor x = Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6});
  tg::sum(d(Variable(x))).backward();
  // d sum(xW + b) / dW = x^T 1, / db = batch size
  EXPECT_TRUE(tg::allclose(d.kernel()->var.grad(), Tensor::from({3, 2}, {5, 5, 7, 7, 9, 9})));
  EXPECT_TRUE(tg::allclose(d.bias()->var.grad(), Tensor::from({2}, {2, 2})));
}

TEST(Dense, Errors) {
  EXPECT_ERROR(tg::Dense(0), {"Dense", "units", "0"});
  tg::Dense d(4, {.name = "head"});
  EXPECT_EQ(d.name(), "head");
  EXPECT_ERROR(d.output_shape(Shape{}), {"Dense 'head'", "(None,)"});
  d.build({3});
  EXPECT_ERROR(d(Variable(Tensor::ones({2, 5}))), {"Dense 'head'", "(2, 5)", "expected 3", "(None, 3)"});
  EXPECT_ERROR(tg::Dense(2, {.activation = "relux"}), {"unknown activation 'relux'", "relu", "sigmoid"});
}

TEST(Layer, AutomaticNamesFollowKerasAndAreCountedPerModel) {
  tg::Dense a(1), b(1);
  EXPECT_EQ(a.name(), "dense");
  EXPECT_EQ(b.name(), "dense") << "no per-process counter";
  tg::Sequential m({std::make_shared<tg::Dense>(std::move(a)), std::make_shared<tg::Dense>(std::move(b))});
  EXPECT_EQ(m.layers()[0]->name(), "dense");
  EXPECT_EQ(m.layers()[1]->name(), "dense_1") << "numbered among its siblings";
  EXPECT_EQ(tg::automatic_layer_name("BatchNormalization"), "batch_normalization");
  EXPECT_EQ(tg::automatic_layer_name("Conv2DTranspose"), "conv2d_transpose");
}

TEST(Sequential, ChainsLayersAndInfersShapes) {
  tg::Sequential model({tg::Dense(8, {.activation = "relu"}), tg::Dense(3, {.activation = "softmax"})});
  EXPECT_EQ(model.output_shape({5}), Shape({3}));
  EXPECT_FALSE(model.built());
  const Variable y = model(Variable(Tensor::ones({4, 5})));
  EXPECT_TRUE(model.built());
  EXPECT_EQ(y.shape(), Shape({4, 3}));
  const Tensor row_sums = tg::sum(y.value(), {1});
  for (float s : row_sums.to_vector()) EXPECT_NEAR(s, 1.0f, 1e-6);
  EXPECT_EQ(model.parameters().size(), 4u);
  EXPECT_EQ(model.count_params(), 5 * 8 + 8 + 8 * 3 + 3);
}

TEST(Sequential, SummaryPrintsKerasTable) {
  tg::Sequential model({tg::Dense(64, {.activation = "relu", .name = "hidden"}), tg::Dense(10, {.name = "logits"})},
                       {.name = "mlp"});
  model.build({784});
  model.layers()[1]->set_trainable(false);
  const std::string expected =
      "Model: \"mlp\"\n"
      "_________________________________________________________________\n"
      " Layer (type)                Output Shape              Param #   \n"
      "=================================================================\n"
      " hidden (Dense)              (None, 64)                50240     \n"
      "                                                                 \n"
      " logits (Dense)              (None, 10)                650       \n"
      "                                                                 \n"
      "=================================================================\n"
      "Total params: 50890 (198.79 KB)\n"
      "Trainable params: 50240 (196.25 KB)\n"
      "Non-trainable params: 650 (2.54 KB)\n"
      "_________________________________________________________________\n";
  EXPECT_EQ(model.summary_string(), expected);
}

TEST(Sequential, Errors) {
  tg::Sequential empty;
  EXPECT_ERROR(empty.output_shape({3}), {"Sequential", "no layers"});
  tg::Sequential model({tg::Dense(2)});
  EXPECT_ERROR(model.summary_string(), {"summary", "build"});
  model.build({3});
  EXPECT_ERROR(model.build({4}), {"(3,)", "(4,)"});
  EXPECT_ERROR(model.add(tg::Dense(1)), {"after the model is built"});
  EXPECT_ERROR(model(Variable(Tensor::scalar(1.0f))), {"batch"});
}

TEST(Sequential, SharedLayersViaPointers) {
  auto shared = std::make_shared<tg::Dense>(4);
  tg::Sequential a({shared, tg::Dense(1)});
  a.build({2});
  EXPECT_TRUE(shared->built());
  EXPECT_EQ(a.parameters()[0], shared->kernel());
}

TEST(Layer, ActivityRegularizerPenaltyIsCollectedByLosses) {
  tg::Sequential model({tg::Dense(3, {.activity_regularizer = tg::L2(0.1f)}), tg::Dense(2)});
  model.build({4});
  EXPECT_EQ(model.losses().item(), 0.0f) << "no penalty before a call";
  const Tensor x = Tensor::arange(8).reshape({2, 4});
  for (int call = 0; call < 2; ++call) {  // the second call replaces, not adds to, the first's penalty
    model(Variable(x), true);
    const auto* first = static_cast<tg::Dense*>(model.layers()[0].get());
    const Tensor h = tg::add(tg::matmul(x, first->kernel()->var.value()), first->bias()->var.value());
    ASSERT_EQ(model.loss_terms().size(), 1u);
    EXPECT_NEAR(model.losses().item(), 0.1 * tg::squared_norm(h) / 2.0, 1e-4);
  }
  // The penalty is on the tape: its gradient reaches the first layer's kernel.
  model.losses().backward();
  EXPECT_TRUE(model.layers()[0]->parameters()[0]->var.grad().defined());
  EXPECT_FALSE(model.layers()[1]->parameters()[0]->var.grad().defined());
}

TEST(Dense, RegularizersAndConstraintsByName) {
  tg::Dense d(3, {.kernel_regularizer = "l2", .kernel_constraint = "non_neg"});
  d.build({2});
  ASSERT_NE(d.kernel()->regularizer, nullptr);
  EXPECT_NEAR(d.kernel()->regularizer->value(Tensor::ones({2, 2})), 0.01 * 4, 1e-7) << "Keras' L2 default, 0.01";
  ASSERT_NE(d.kernel()->constraint, nullptr);
  Tensor w = Tensor::from({2}, {-1.0f, 2.0f});
  d.kernel()->constraint->apply(w);
  EXPECT_EQ(w.to_vector(), (std::vector<float>{0.0f, 2.0f}));
  EXPECT_ERROR(tg::Dense(3, {.kernel_regularizer = "l3"}), {"unknown regularizer 'l3'", "l1", "l2"});
  EXPECT_ERROR(tg::Dense(3, {.bias_constraint = "positive"}), {"unknown constraint 'positive'", "non_neg"});
}
