// OptimizerState: a plain value that resumes an optimizer exactly, and load_state()'s checks.
#include <gtest/gtest.h>

#include "../error_matchers.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/dense.h"
#include "tapegrad/optim/adam.h"
#include "tapegrad/optim/nadam.h"
#include "tapegrad/optim/rmsprop.h"
#include "tapegrad/optim/sgd.h"
#include "tapegrad/train/losses.h"

namespace tg = tapegrad;
using tg::Tensor;
using tg::Variable;

namespace {

struct Training {
  tg::Dense layer{3};
  Tensor x, y;
  Training() {
    tg::Rng rng(3);
    x = Tensor::randn({6, 4}, rng);
    y = Tensor::randn({6, 3}, rng);
    tg::manual_seed(11);
    layer.build({4});
  }
  void steps(tg::Optimizer& opt, int n) {
    for (int i = 0; i < n; ++i) {
      Variable l = tg::losses::mean_squared_error(y, layer(Variable(x)));
      opt.zero_grad();
      l.backward();
      opt.step();
    }
  }
  void copy_weights_from(const Training& other) {
    layer.kernel()->var.value().copy_from(other.layer.kernel()->var.value());
    layer.bias()->var.value().copy_from(other.layer.bias()->var.value());
  }
};

template <class Opt, class Options>
void expect_exact_resume(Options options) {
  Training straight, first_half, second_half;
  Opt a(straight.layer.parameters(), options);
  straight.steps(a, 10);

  Opt b(first_half.layer.parameters(), options);
  first_half.steps(b, 4);
  const tg::OptimizerState saved = b.state();
  second_half.copy_weights_from(first_half);
  Opt c(second_half.layer.parameters(), options);
  c.load_state(saved);
  EXPECT_EQ(c.iterations(), 4);
  second_half.steps(c, 6);
  EXPECT_TRUE(tg::allclose(second_half.layer.kernel()->var.value(), straight.layer.kernel()->var.value(), 0.0f, 0.0f));
  EXPECT_TRUE(tg::allclose(second_half.layer.bias()->var.value(), straight.layer.bias()->var.value(), 0.0f, 0.0f));
}

}  // namespace

TEST(OptimizerState, ResumesExactlyWithMomentsScheduleAndGlobals) {
  expect_exact_resume<tg::Adam>(tg::AdamOptions{.learning_rate = tg::ExponentialDecay(0.05f, 3, 0.5f), .amsgrad = true});
  expect_exact_resume<tg::Nadam>(tg::NadamOptions{.learning_rate = 0.01f});  // its momentum product is a global
  expect_exact_resume<tg::RMSprop>(tg::RMSpropOptions{.momentum = 0.9f, .centered = true});
  expect_exact_resume<tg::SGD>(tg::SGDOptions{.learning_rate = 0.05f, .momentum = 0.9f, .nesterov = true});
}

TEST(OptimizerState, IsACopyThatNamesItsParts) {
  Training r;
  tg::Adam opt(r.layer.parameters());
  r.steps(opt, 2);
  tg::OptimizerState s = opt.state();
  EXPECT_EQ(s.optimizer, "Adam");
  EXPECT_EQ(s.iterations, 2);
  EXPECT_EQ(s.slot_names, (std::vector<std::string>{"m", "v"}));
  ASSERT_EQ(s.slots.size(), 2u);
  EXPECT_EQ(s.slots[0][0].shape(), (tg::Shape{4, 3}));
  EXPECT_EQ(s.parameter_names[1], r.layer.bias()->name);
  ASSERT_TRUE(s.learning_rate.has_value());
  EXPECT_FLOAT_EQ(*s.learning_rate, 0.001f);
  s.slots[0][0].fill_(123.0f);  // must not reach the optimizer
  EXPECT_NE(opt.state().slots[0][0].to_vector()[0], 123.0f);
}

TEST(OptimizerState, RestoresAChangedConstantLearningRate) {
  Training r;
  tg::SGD a(r.layer.parameters(), {.learning_rate = 0.1f});
  a.set_learning_rate(0.02f);
  tg::SGD b(r.layer.parameters(), {.learning_rate = 0.1f});
  b.load_state(a.state());
  EXPECT_FLOAT_EQ(b.learning_rate(), 0.02f);
}

TEST(OptimizerState, MismatchesAreClearErrorsAndChangeNothing) {
  Training r;
  tg::Adam adam(r.layer.parameters());
  r.steps(adam, 1);
  const tg::OptimizerState good = adam.state();

  tg::SGD sgd(r.layer.parameters(), {.momentum = 0.9f});
  EXPECT_ERROR(sgd.load_state(good), {"SGD::load_state", "'Adam'", "expected 'SGD'"});

  tg::Adam ams(r.layer.parameters(), {.amsgrad = true});
  EXPECT_ERROR(ams.load_state(good), {"Adam::load_state", "{m, v}", "{m, v, v_hat}"});

  tg::Adam fresh(r.layer.parameters());
  tg::OptimizerState bad_shape = good;
  bad_shape.slots[1][1] = Tensor::zeros({5});
  EXPECT_ERROR(fresh.load_state(bad_shape), {"slot 'v'", "parameter 1", "(5,)", "expected (3,)"});
  EXPECT_EQ(fresh.iterations(), 0) << "a failed load changes nothing";
  EXPECT_EQ(fresh.state().slots[0][0].to_vector(), Tensor::zeros({4, 3}).to_vector());

  tg::OptimizerState fewer = good;
  fewer.slots.pop_back();
  EXPECT_ERROR(fresh.load_state(fewer), {"holds 1 parameters", "has 2"});

  tg::OptimizerState negative = good;
  negative.iterations = -3;
  EXPECT_ERROR(fresh.load_state(negative), {"iterations", "-3"});
}
