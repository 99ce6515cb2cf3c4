// SGD against Keras' reference trajectories (tests/data/optimizers.json), built with our own
// Dense layer, MSE and autograd; and the optimizer's three stages (hooks, update, constraints).
#include <gtest/gtest.h>

#include <cmath>

#include "../error_matchers.h"
#include "../json_data.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/dense.h"
#include "tapegrad/layers/sequential.h"
#include "tapegrad/optim/sgd.h"
#include "tapegrad/train/losses.h"

namespace tg = tapegrad;
using tg::Tensor;
using tg::Variable;

namespace {

// The reference problem: Dense(3) on 2 inputs, MSE, weights set to w0 / b0.
struct Problem {
  Tensor x, y;
  tg::Dense layer{3};
  explicit Problem(const nlohmann::json& p) : x(tg::testing::to_tensor(p["X"])), y(tg::testing::to_tensor(p["Y"])) {
    layer.build({2});
    layer.kernel()->var.value().copy_from(tg::testing::to_tensor(p["w0"]));
    layer.bias()->var.value().copy_from(tg::testing::to_tensor(p["b0"]));
  }
  Variable loss() { return tg::losses::mean_squared_error(y, layer(Variable(x))); }
  std::vector<float> flat() const {
    auto w = layer.kernel()->var.value().to_vector(), b = layer.bias()->var.value().to_vector();
    w.insert(w.end(), b.begin(), b.end());
    return w;
  }
};

}  // namespace

TEST(SGD, MatchesKerasReferenceTrajectories) {
  const auto data = tg::testing::load_json("optimizers.json");
  int cases = 0;
  for (const auto& c : data["cases"]) {
    if (c["optimizer"] != "SGD" || !c["config"]["clipnorm"].is_null() || !c["config"]["clipvalue"].is_null() ||
        !c["config"]["global_clipnorm"].is_null())
      continue;  // clipping comes with the optimizers issue
    SCOPED_TRACE(c["name"].get<std::string>());
    Problem p(data["problem"]);
    EXPECT_NEAR(p.loss().item(), data["problem"]["initial_loss"].get<double>(), 1e-6);
    tg::SGD opt(p.layer.parameters(), {.learning_rate = c["config"]["learning_rate"].get<float>(),
                                       .momentum = c["config"]["momentum"].get<float>(),
                                       .nesterov = c["config"]["nesterov"].get<bool>()});
    for (int step = 0; step < 20; ++step) {
      Variable l = p.loss();
      opt.zero_grad();
      l.backward();
      opt.step();
      const auto got = p.flat();
      const auto& want = c["trajectory"][step];
      for (size_t i = 0; i < got.size(); ++i) {
        const double w = want[i].get<double>();
        EXPECT_NEAR(got[i], w, 2e-6 + 1e-5 * std::fabs(w)) << "step " << step + 1 << " param " << i;
      }
    }
    EXPECT_EQ(opt.iterations(), 20);
    ++cases;
  }
  EXPECT_EQ(cases, 3) << "sgd, sgd_momentum, sgd_nesterov";
}

TEST(SGD, L2KernelRegularizerEqualsThePenaltyAddedByHand) {
  // Three copies of one model: kernel_regularizer L2(0.05); 0.05 * sum(w^2) added to the loss by
  // hand; no penalty at all. The first two must agree, and differ from the third.
  tg::Rng rng(4);
  const Tensor x = Tensor::randn({8, 4}, rng), y = Tensor::randn({8, 2}, rng);
  tg::Dense with_reg(2, {.kernel_regularizer = tg::L2(0.05f)}), by_hand(2), plain(2);
  for (tg::Dense* d : {&with_reg, &by_hand, &plain}) {
    d->build({4});
    d->kernel()->var.value().copy_from(with_reg.kernel()->var.value());
  }
  const float penalty[] = {0.0f, 0.05f, 0.0f};
  tg::Dense* models[] = {&with_reg, &by_hand, &plain};
  for (int m = 0; m < 3; ++m) {
    tg::SGD opt(models[m]->parameters(), {.learning_rate = 0.1f, .momentum = 0.5f});
    for (int step = 0; step < 10; ++step) {
      Variable l = tg::losses::mean_squared_error(y, (*models[m])(Variable(x)));
      if (penalty[m] > 0.0f) l = l + tg::sum(models[m]->kernel()->var * models[m]->kernel()->var) * penalty[m];
      opt.zero_grad();
      l.backward();
      opt.step();
    }
  }
  EXPECT_TRUE(tg::allclose(with_reg.kernel()->var.value(), by_hand.kernel()->var.value(), 1e-5f, 1e-6f));
  EXPECT_TRUE(tg::allclose(with_reg.bias()->var.value(), by_hand.bias()->var.value(), 1e-5f, 1e-6f));
  EXPECT_FALSE(tg::allclose(with_reg.kernel()->var.value(), plain.kernel()->var.value(), 1e-3f, 1e-4f));
}

TEST(SGD, ConstraintIsAppliedAfterEveryUpdate) {
  tg::Rng rng(5);
  const Tensor x = tg::mul(Tensor::randn({16, 3}, rng), 5.0f), y = tg::mul(Tensor::randn({16, 4}, rng), 5.0f);
  tg::Dense layer(4, {.kernel_constraint = std::make_shared<tg::MaxNorm>(0.5f)});
  layer.build({3});
  tg::SGD opt(layer.parameters(), {.learning_rate = 0.5f});
  for (int step = 0; step < 5; ++step) {
    Variable l = tg::losses::mean_squared_error(y, layer(Variable(x)));
    opt.zero_grad();
    l.backward();
    opt.step();
    const Tensor norms = tg::sqrt(tg::sum(tg::mul(layer.kernel()->var.value(), layer.kernel()->var.value()), {0}));
    for (float n : norms.to_vector()) EXPECT_LE(n, 0.5f + 1e-5f) << "after step " << step;
  }
}

TEST(SGD, FrozenParametersAndMissingGradientsAreSkipped) {
  auto a_ptr = std::make_shared<tg::Dense>(2), b_ptr = std::make_shared<tg::Dense>(2);
  tg::Sequential model({a_ptr, b_ptr});  // one parent: the optimizer keys the parameters by path
  model.build({2});
  tg::Dense &a = *a_ptr, &b = *b_ptr;
  b.set_trainable(false);
  tg::SGD opt(model.parameters(), {.learning_rate = 1.0f});
  const Tensor before_b = b.kernel()->var.value().clone();
  Variable l = tg::sum(b(a(Variable(Tensor::ones({1, 2})))));
  opt.zero_grad();
  l.backward();
  const Tensor before_a = a.kernel()->var.value().clone();
  opt.step();
  EXPECT_TRUE(tg::allclose(b.kernel()->var.value(), before_b, 0.0f, 0.0f));
  EXPECT_FALSE(tg::allclose(a.kernel()->var.value(), before_a, 0.0f, 0.0f));
}

TEST(SGD, NoGradGuardInsideStepAndZeroGrad) {
  tg::Dense layer(1);
  layer.build({1});
  tg::SGD opt(layer.parameters());
  tg::sum(layer(Variable(Tensor::ones({1, 1})))).backward();
  EXPECT_TRUE(layer.kernel()->var.grad().defined());
  opt.step();
  opt.zero_grad();
  EXPECT_FALSE(layer.kernel()->var.grad().defined());
}

TEST(SGD, InvalidOptionsAreErrors) {
  tg::Dense layer(1);
  layer.build({1});
  EXPECT_ERROR(tg::SGD(layer.parameters(), {.learning_rate = -1.0f}), {"SGD", "learning_rate"});
  EXPECT_ERROR(tg::SGD(layer.parameters(), {.momentum = 1.5f}), {"SGD", "momentum"});
  auto params = layer.parameters();
  params.push_back(params[0]);
  EXPECT_ERROR(tg::SGD(params, {}), {"given twice"});
  EXPECT_ERROR(tg::SGD({nullptr}, {}), {"Optimizer", "null"});
  tg::Dense unbuilt(1);
  EXPECT_ERROR(tg::SGD(unbuilt.parameters(), {}), {"Optimizer", "empty parameter list", "build"});
}
