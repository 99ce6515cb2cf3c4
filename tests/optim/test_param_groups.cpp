// Parameter groups with their own learning rate / weight decay; decoupled weight decay; frozen
// parameters skipped by every optimizer.
#include <gtest/gtest.h>

#include "../error_matchers.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/dense.h"
#include "tapegrad/layers/sequential.h"
#include "tapegrad/optim/adam.h"
#include "tapegrad/optim/adamax.h"
#include "tapegrad/optim/adadelta.h"
#include "tapegrad/optim/adagrad.h"
#include "tapegrad/optim/nadam.h"
#include "tapegrad/optim/rmsprop.h"
#include "tapegrad/optim/sgd.h"

namespace tg = tapegrad;
using tg::Tensor;
using tg::Variable;

namespace {

tg::ParameterPtr param(const std::string& name, Tensor value) {
  return std::make_shared<tg::Parameter>(tg::Parameter{name, Variable(std::move(value), true)});
}

void unit_gradients(const std::vector<tg::ParameterPtr>& ps) {
  Variable loss;
  for (const auto& p : ps) loss = loss.defined() ? loss + tg::sum(p->var) : tg::sum(p->var);
  loss.backward();
}

}  // namespace

TEST(ParamGroups, EachGroupUsesItsOwnLearningRate) {
  auto a = param("a", Tensor::zeros({2})), b = param("b", Tensor::zeros({2})), c = param("c", Tensor::zeros({1}));
  tg::SGD opt(std::vector<tg::ParamGroup>{{.parameters = {a}},
                                          {.parameters = {b}, .learning_rate = 0.5f},
                                          {.parameters = {c}, .learning_rate = tg::ExponentialDecay(1.0f, 1, 0.5f)}},
              {.learning_rate = 0.1f});
  EXPECT_EQ(opt.parameters().size(), 3u);
  EXPECT_FLOAT_EQ(opt.learning_rate(0), 0.1f);
  EXPECT_FLOAT_EQ(opt.learning_rate(1), 0.5f);
  for (int step = 0; step < 2; ++step) {
    opt.zero_grad();
    unit_gradients({a, b, c});
    opt.step();
  }
  EXPECT_FLOAT_EQ(a->var.value().to_vector()[0], -0.2f);
  EXPECT_FLOAT_EQ(b->var.value().to_vector()[0], -1.0f);
  EXPECT_FLOAT_EQ(c->var.value().item(), -1.5f);  // 1.0 at step 0, 0.5 at step 1
  // set_learning_rate changes the default only.
  opt.set_learning_rate(1.0f);
  EXPECT_FLOAT_EQ(opt.learning_rate(0), 1.0f);
  EXPECT_FLOAT_EQ(opt.learning_rate(1), 0.5f);
  EXPECT_ERROR(opt.learning_rate(3), {"learning_rate", "group 3", "3 groups"});
}

TEST(ParamGroups, DecoupledWeightDecayPerGroupScalesWithTheLearningRate) {
  // Zero gradients: only the decay w -= w * wd * lr moves the weights.
  auto a = param("a", Tensor::full({2}, 2.0f)), b = param("b", Tensor::full({2}, 2.0f));
  tg::Adam opt(std::vector<tg::ParamGroup>{{.parameters = {a}}, {.parameters = {b}, .weight_decay = 0.0f}},
               {.learning_rate = 0.1f, .weight_decay = 0.5f});
  tg::sum(tg::mul(a->var, Variable(Tensor::zeros({2})))).backward();
  tg::sum(tg::mul(b->var, Variable(Tensor::zeros({2})))).backward();
  opt.step();
  EXPECT_FLOAT_EQ(a->var.value().to_vector()[0], 2.0f * (1.0f - 0.05f));
  EXPECT_FLOAT_EQ(b->var.value().to_vector()[0], 2.0f);
}

TEST(ParamGroups, AdamWDecaysByDefaultAndAdamDoesNot) {
  auto a = param("a", Tensor::full({1}, 1.0f)), b = param("b", Tensor::full({1}, 1.0f));
  tg::AdamW adamw({a}, {.learning_rate = 1.0f});
  tg::Adam adam({b}, {.learning_rate = 1.0f});
  EXPECT_EQ(adamw.name(), "AdamW");
  EXPECT_FLOAT_EQ(*adamw.config().weight_decay, 0.004f);
  EXPECT_FALSE(adam.config().weight_decay.has_value());
  unit_gradients({a, b});
  adamw.step();
  adam.step();
  // Adam's first step moves by lr * m / (sqrt(v) + eps) ~= lr; AdamW also decays by 0.004.
  EXPECT_NEAR(b->var.value().item(), 0.0f, 1e-5);
  EXPECT_NEAR(a->var.value().item(), -0.004f, 1e-5);
}

TEST(ParamGroups, GroupErrors) {
  auto a = param("a", Tensor::zeros({1}));
  EXPECT_ERROR(tg::SGD(std::vector<tg::ParamGroup>{{.parameters = {a}}, {.parameters = {a}}}), {"'a'", "given twice"});
  EXPECT_ERROR(tg::SGD(std::vector<tg::ParamGroup>{{.parameters = {a}, .weight_decay = -1.0f}}),
               {"SGD", "weight_decay", "-1"});
  EXPECT_ERROR(tg::SGD(std::vector<tg::ParamGroup>{{.parameters = {a}, .learning_rate = -2.0f}}),
               {"SGD", "learning_rate", "-2"});
}

TEST(FrozenParameters, EveryOptimizerLeavesThemAndTheirSlotsAlone) {
  std::vector<std::function<std::unique_ptr<tg::Optimizer>(std::vector<tg::ParameterPtr>)>> makers = {
      [](auto p) { return std::make_unique<tg::SGD>(p, tg::SGDOptions{.momentum = 0.9f}); },
      [](auto p) { return std::make_unique<tg::Adam>(p, tg::AdamOptions{.amsgrad = true}); },
      [](auto p) { return std::make_unique<tg::AdamW>(p); },
      [](auto p) { return std::make_unique<tg::RMSprop>(p, tg::RMSpropOptions{.momentum = 0.5f, .centered = true}); },
      [](auto p) { return std::make_unique<tg::Adagrad>(p); },
      [](auto p) { return std::make_unique<tg::Adadelta>(p); },
      [](auto p) { return std::make_unique<tg::Adamax>(p); },
      [](auto p) { return std::make_unique<tg::Nadam>(p); }};
  for (auto& make : makers) {
    auto live_ptr = std::make_shared<tg::Dense>(2), frozen_ptr = std::make_shared<tg::Dense>(2);
    tg::Sequential model({live_ptr, frozen_ptr});
    model.build({2});
    tg::Dense &live = *live_ptr, &frozen = *frozen_ptr;
    frozen.set_trainable(false);
    auto opt = make(model.parameters());
    SCOPED_TRACE(opt->name());
    const Tensor frozen_before = frozen.kernel()->var.value().clone(), live_before = live.kernel()->var.value().clone();
    const auto slots_before = opt->state().slots;
    for (int step = 0; step < 3; ++step) {
      opt->zero_grad();
      tg::sum(frozen(live(Variable(Tensor::ones({3, 2}))))).backward();
      opt->step();
    }
    EXPECT_TRUE(tg::allclose(frozen.kernel()->var.value(), frozen_before, 0.0f, 0.0f));
    EXPECT_FALSE(tg::allclose(live.kernel()->var.value(), live_before, 0.0f, 0.0f));
    const auto slots_after = opt->state().slots;
    for (size_t k = 0; k < slots_after[2].size(); ++k)  // parameter 2 = frozen kernel
      EXPECT_TRUE(tg::allclose(slots_after[2][k], slots_before[2][k], 0.0f, 0.0f)) << "slot " << k;
  }
}

namespace {
// Runs `steps` steps of opt on parameters whose loss is sum(p * c_k), with gradients that change
// from step to step, and returns the parameters' values.
std::vector<std::vector<float>> run_steps(tg::Optimizer& opt, const std::vector<tg::ParameterPtr>& ps, int steps) {
  for (int s = 0; s < steps; ++s) {
    opt.zero_grad();
    Variable loss;
    for (size_t k = 0; k < ps.size(); ++k) {
      const Variable term = tg::sum(tg::mul(ps[k]->var, ps[k]->var) * (0.5f + static_cast<float>(k + s)));
      loss = loss.defined() ? loss + term : term;
    }
    loss.backward();
    opt.step();
  }
  std::vector<std::vector<float>> out;
  for (const auto& p : ps) out.push_back(p->var.value().to_vector());
  return out;
}
}  // namespace

TEST(ParamGroups, AGroupOverridesTheOptimizersOwnOptions) {
  // Group 1 with beta_1 = 0.5 and epsilon = 0.1 moves exactly as an Adam made with those options.
  auto a = param("a", Tensor::from({2}, {1.0f, -2.0f})), b = param("b", Tensor::from({2}, {0.5f, 3.0f}));
  tg::Adam grouped(std::vector<tg::ParamGroup>{{.parameters = {a}},
                                               {.parameters = {b}, .options = {{"beta_1", 0.5f}, {"epsilon", 0.1f}}}},
                   {.learning_rate = 0.1f});
  const auto got = run_steps(grouped, {a, b}, 5);
  auto a2 = param("a", Tensor::from({2}, {1.0f, -2.0f})), b2 = param("b", Tensor::from({2}, {0.5f, 3.0f}));
  tg::Adam plain({a2}, {.learning_rate = 0.1f});
  tg::Adam tuned({b2}, {.learning_rate = 0.1f, .beta_1 = 0.5f, .epsilon = 0.1f});
  for (int s = 0; s < 5; ++s) {  // the same per-parameter losses, stepped separately
    for (auto* o : {static_cast<tg::Optimizer*>(&plain), static_cast<tg::Optimizer*>(&tuned)}) o->zero_grad();
    (tg::sum(tg::mul(a2->var, a2->var) * (0.5f + static_cast<float>(s))) +
     tg::sum(tg::mul(b2->var, b2->var) * (1.5f + static_cast<float>(s)))).backward();
    plain.step();
    tuned.step();
  }
  EXPECT_EQ(got[0], a2->var.value().to_vector());
  EXPECT_EQ(got[1], b2->var.value().to_vector());
}

TEST(ParamGroups, MomentumInOneGroupOnlyAndNesterovPerGroup) {
  auto a = param("a", Tensor::from({1}, {1.0f})), b = param("b", Tensor::from({1}, {1.0f}));
  tg::SGD opt(std::vector<tg::ParamGroup>{{.parameters = {a}},
                                          {.parameters = {b}, .options = {{"momentum", 0.9f}, {"nesterov", 1.0f}}}},
              {.learning_rate = 0.1f});
  EXPECT_EQ(opt.state().slot_names, std::vector<std::string>{"momentum"});
  run_steps(opt, {a, b}, 2);
  // a: plain SGD on grad 2 * 0.5 * a then 2 * 1.5 * a; b: Keras' Nesterov momentum.
  const float a1 = 1.0f - 0.1f * 1.0f, a2 = a1 - 0.1f * 3.0f * a1;
  EXPECT_FLOAT_EQ(a->var.value().item(), a2);
  float w = 1.0f, m = 0.0f;
  for (float c : {3.0f, 5.0f}) {  // loss w^2 (1.5 + s): gradient 2 (1.5 + s) w
    const float g = c * w;
    m = 0.9f * m - 0.1f * g;
    w += 0.9f * m - 0.1f * g;
  }
  EXPECT_FLOAT_EQ(b->var.value().item(), w);
}

TEST(ParamGroups, ClippingPerGroup) {
  auto a = param("a", Tensor::from({2}, {3.0f, 4.0f})), b = param("b", Tensor::from({2}, {3.0f, 4.0f}));
  tg::SGD opt(std::vector<tg::ParamGroup>{{.parameters = {a}}, {.parameters = {b}, .clipnorm = 1.0f}},
              {.learning_rate = 1.0f, .clipvalue = 0.5f});
  opt.zero_grad();
  (tg::sum(tg::mul(a->var, Variable(Tensor::from({2}, {3.0f, 4.0f})))) +
   tg::sum(tg::mul(b->var, Variable(Tensor::from({2}, {3.0f, 4.0f}))))).backward();
  opt.step();
  EXPECT_EQ(a->var.value().to_vector(), (std::vector<float>{2.5f, 3.5f})) << "the optimizer's clipvalue";
  EXPECT_TRUE(tg::allclose(b->var.value(), Tensor::from({2}, {3.0f - 0.6f, 4.0f - 0.8f}), 1e-6f, 0))
      << "the group's clipnorm wins over the optimizer's clipvalue";
}

TEST(ParamGroups, GroupOptionErrors) {
  auto a = param("a", Tensor::zeros({1}));
  EXPECT_ERROR(tg::Adam(std::vector<tg::ParamGroup>{{.parameters = {a}, .options = {{"beta1", 0.5f}}}}),
               {"Adam (group 0)", "unknown option 'beta1'", "beta_1", "beta_2", "epsilon"});
  EXPECT_ERROR(tg::Adam(std::vector<tg::ParamGroup>{{.parameters = {a}, .options = {{"beta_1", 1.5f}}}}),
               {"Adam (group 0)", "beta_1 must be in [0, 1)", "1.5"});
  EXPECT_ERROR(tg::Adam(std::vector<tg::ParamGroup>{{.parameters = {a}, .options = {{"amsgrad", 1.0f}}}}),
               {"'amsgrad' cannot differ between groups", "slots"});
  EXPECT_ERROR(tg::Nadam(std::vector<tg::ParamGroup>{{.parameters = {a}, .options = {{"beta_1", 0.5f}}}}),
               {"Nadam (group 0)", "'beta_1' cannot differ"});
  EXPECT_ERROR(tg::SGD(std::vector<tg::ParamGroup>{{.parameters = {a}, .options = {{"nesterov", 0.5f}}}}),
               {"nesterov must be 0 or 1"});
  EXPECT_ERROR(tg::SGD(std::vector<tg::ParamGroup>{{.parameters = {a}, .global_clipnorm = 1.0f}}, {.clipnorm = 1.0f}),
               {"SGD (group 0)", "clipnorm", "global_clipnorm"});
}

TEST(ParamGroups, GlobalClipnormPerGroupSpansOnlyThatGroupsTensors) {
  auto a = param("a", Tensor::zeros({1})), b = param("b", Tensor::zeros({1})), c = param("c", Tensor::zeros({1}));
  tg::SGD opt(std::vector<tg::ParamGroup>{{.parameters = {a}}, {.parameters = {b, c}, .global_clipnorm = 1.0f}},
              {.learning_rate = 1.0f});
  opt.zero_grad();
  (tg::sum(a->var * 3.0f) + tg::sum(b->var * 3.0f) + tg::sum(c->var * 4.0f)).backward();
  opt.step();
  EXPECT_FLOAT_EQ(a->var.value().item(), -3.0f) << "group 0 is not clipped";
  EXPECT_FLOAT_EQ(b->var.value().item(), -0.6f) << "(3, 4) has norm 5: scaled to 1 jointly";
  EXPECT_FLOAT_EQ(c->var.value().item(), -0.8f);
}
