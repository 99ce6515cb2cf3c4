// Optimizer state is keyed by parameter name, never by position: a model whose layers were
// created in another order still gets each parameter's own moments (issue 12, case 4).
#include <gtest/gtest.h>

#include "../error_matchers.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/dense.h"
#include "tapegrad/optim/adam.h"
#include "tapegrad/train/losses.h"

namespace tg = tapegrad;
using tg::Tensor;
using tg::Variable;

namespace {

// Two named branches of different widths, registered in either order; the output adds them.
class TwoBranches : public tg::Layer {
 public:
  explicit TwoBranches(bool wide_first) : Layer("TwoBranches", "") {
    if (wide_first) {
      wide_ = register_layer("wide", std::make_shared<tg::Dense>(3));
      narrow_ = register_layer("narrow", std::make_shared<tg::Dense>(3, tg::DenseOptions{.use_bias = false}));
    } else {
      narrow_ = register_layer("narrow", std::make_shared<tg::Dense>(3, tg::DenseOptions{.use_bias = false}));
      wide_ = register_layer("wide", std::make_shared<tg::Dense>(3));
    }
  }
  std::shared_ptr<tg::Dense> wide_, narrow_;

 protected:
  Variable forward(const Variable& x, bool t) override { return (*wide_)(x, t) + (*narrow_)(x, t); }
};

void train(tg::Layer& model, tg::Optimizer& opt, int steps) {
  tg::Rng rng(5);
  const Tensor x = Tensor::randn({8, 3}, rng), y = Tensor::randn({8, 3}, rng);
  for (int i = 0; i < steps; ++i) {
    Variable l = tg::losses::mean_squared_error(y, model(Variable(x)));
    opt.zero_grad();
    l.backward();
    opt.step();
  }
}

void copy_weights(const TwoBranches& from, TwoBranches& to) {
  to.wide_->kernel()->var.value().copy_from(from.wide_->kernel()->var.value());
  to.wide_->bias()->var.value().copy_from(from.wide_->bias()->var.value());
  to.narrow_->kernel()->var.value().copy_from(from.narrow_->kernel()->var.value());
}

}  // namespace

TEST(OptimizerStateByName, ResumesIntoAModelBuiltInAnotherOrder) {
  tg::manual_seed(1);
  TwoBranches straight(true), first(true), second(false);
  for (auto* m : {&straight, &first, &second}) m->build({3});
  copy_weights(straight, first);
  tg::Adam a(straight.parameters(), {.learning_rate = 0.05f});
  train(straight, a, 10);

  tg::Adam b(first.parameters(), {.learning_rate = 0.05f});
  train(first, b, 4);
  const tg::OptimizerState saved = b.state();
  copy_weights(first, second);
  tg::Adam c(second.parameters(), {.learning_rate = 0.05f});
  // The narrow kernel (3, 3) and the wide kernel (3, 3) have the same shape: by position, each
  // would silently take the other's moments.
  ASSERT_EQ(c.parameters()[0]->name, "narrow/kernel");
  c.load_state(saved);
  train(second, c, 6);
  EXPECT_TRUE(tg::allclose(second.wide_->kernel()->var.value(), straight.wide_->kernel()->var.value(), 0, 0));
  EXPECT_TRUE(tg::allclose(second.narrow_->kernel()->var.value(), straight.narrow_->kernel()->var.value(), 0, 0));
}

TEST(OptimizerStateByName, AStateWithOtherNamesIsRefusedAndChangesNothing) {
  tg::manual_seed(2);
  TwoBranches m(true);
  m.build({3});
  tg::Adam opt(m.parameters());
  train(m, opt, 2);
  tg::OptimizerState s = opt.state();
  const tg::OptimizerState before = opt.state();
  s.parameter_names[0] = "elsewhere/kernel";
  EXPECT_ERROR(opt.load_state(s), {"Adam::load_state", "missing from the state: 'wide/kernel'",
                                   "in the state but not here: 'elsewhere/kernel'"});
  s = opt.state();
  s.parameter_names[1] = s.parameter_names[0];
  EXPECT_ERROR(opt.load_state(s), {"names parameter 'wide/kernel' twice"});
  s = opt.state();
  s.slots[2][0] = Tensor::zeros({2});
  EXPECT_ERROR(opt.load_state(s), {"slot 'm'", "parameter 2 ('narrow/kernel')", "(2,)", "(3, 3)"});
  EXPECT_EQ(opt.iterations(), before.iterations);
  const tg::OptimizerState after = opt.state();
  for (size_t i = 0; i < after.slots.size(); ++i)
    for (size_t k = 0; k < after.slots[i].size(); ++k)
      EXPECT_TRUE(tg::allclose(after.slots[i][k], before.slots[i][k], 0, 0));
}

TEST(OptimizerStateByName, ParametersWithOneNameAreRefusedAtConstruction) {
  tg::Dense a(2), b(2);
  a.build({2});
  b.build({2});
  auto params = a.parameters();
  for (auto& p : b.parameters()) params.push_back(p);  // two standalone layers: "kernel" twice
  EXPECT_ERROR(tg::Adam opt(params), {"Adam", "both named 'kernel'", "distinct names"});
}
