// The gradient-hook stage: the regularizer's gradient first, then clipping with Keras'
// precedence (clipnorm > global_clipnorm > clipvalue); the parameter's own grad is untouched.
#include <gtest/gtest.h>

#include <cmath>

#include "../error_matchers.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/optim/clipping.h"
#include "tapegrad/optim/sgd.h"

namespace tg = tapegrad;
using tg::Tensor;
using tg::Variable;

namespace {

tg::ParameterPtr param(const std::string& name, Tensor value) {
  return std::make_shared<tg::Parameter>(tg::Parameter{name, Variable(std::move(value), true)});
}

// loss = sum(c_i * w_i): the gradient of each parameter is its c.
void backward_with(const std::vector<tg::ParameterPtr>& ps, const std::vector<Tensor>& gs) {
  Variable loss;
  for (size_t i = 0; i < ps.size(); ++i) {
    Variable term = tg::sum(tg::mul(ps[i]->var, Variable(gs[i])));
    loss = loss.defined() ? loss + term : term;
  }
  loss.backward();
}

// The gradient SGD applied (lr 1): before - after.
std::vector<float> applied(const Tensor& before, const tg::ParameterPtr& p) {
  return tg::sub(before, p->var.value()).to_vector();
}

}  // namespace

TEST(Clipping, TensorFlowFormulas) {
  Tensor g = Tensor::from({2}, {3.0f, 4.0f});
  tg::clip_by_norm_(g, 1.0f);
  EXPECT_FLOAT_EQ(g.to_vector()[0], 0.6f);
  EXPECT_FLOAT_EQ(g.to_vector()[1], 0.8f);
  Tensor short_g = Tensor::from({2}, {0.3f, 0.4f});
  tg::clip_by_norm_(short_g, 1.0f);  // shorter than c: unchanged
  EXPECT_FLOAT_EQ(short_g.to_vector()[1], 0.4f);
  Tensor a = Tensor::from({1}, {3.0f}), b = Tensor::from({1}, {4.0f});
  EXPECT_DOUBLE_EQ(tg::global_norm({&a, &b}), 5.0);
  tg::clip_by_global_norm_({&a, &b}, 2.5f);
  EXPECT_FLOAT_EQ(a.item(), 1.5f);
  EXPECT_FLOAT_EQ(b.item(), 2.0f);
  Tensor zeros = Tensor::zeros({3});
  tg::clip_by_global_norm_({&zeros}, 1.0f);  // N = 0 must not produce NaN
  for (float v : zeros.to_vector()) EXPECT_EQ(v, 0.0f);
  Tensor v = Tensor::from({3}, {-2.0f, 0.01f, 2.0f});
  tg::clip_by_value_(v, 0.5f);
  EXPECT_EQ(v.to_vector(), (std::vector<float>{-0.5f, 0.01f, 0.5f}));
}

TEST(Clipping, ClipnormIsPerTensorAndWinsOverClipvalue) {
  auto a = param("a", Tensor::zeros({2})), b = param("b", Tensor::zeros({2}));
  tg::SGD opt({a, b}, {.learning_rate = 1.0f, .clipnorm = 1.0f, .clipvalue = 0.1f});
  backward_with({a, b}, {Tensor::from({2}, {3.0f, 4.0f}), Tensor::from({2}, {0.3f, 0.4f})});
  opt.step();
  // a is rescaled to norm 1, b (norm 0.5) is untouched; clipvalue 0.1 is ignored.
  EXPECT_NEAR(applied(Tensor::zeros({2}), a)[0], 0.6f, 1e-6);
  EXPECT_NEAR(applied(Tensor::zeros({2}), a)[1], 0.8f, 1e-6);
  EXPECT_NEAR(applied(Tensor::zeros({2}), b)[1], 0.4f, 1e-6);
  // The parameter's own gradient is what backward() produced.
  EXPECT_FLOAT_EQ(a->var.grad().to_vector()[0], 3.0f);
}

TEST(Clipping, GlobalClipnormSpansAllTensorsAndWinsOverClipvalue) {
  auto a = param("a", Tensor::zeros({1})), b = param("b", Tensor::zeros({1}));
  tg::SGD opt({a, b}, {.learning_rate = 1.0f, .clipvalue = 0.01f, .global_clipnorm = 2.5f});
  backward_with({a, b}, {Tensor::from({1}, {3.0f}), Tensor::from({1}, {4.0f})});
  opt.step();
  EXPECT_NEAR(applied(Tensor::zeros({1}), a)[0], 1.5f, 1e-6);
  EXPECT_NEAR(applied(Tensor::zeros({1}), b)[0], 2.0f, 1e-6);
}

TEST(Clipping, FrozenParametersDoNotCountInTheGlobalNorm) {
  auto a = param("a", Tensor::zeros({1})), b = param("b", Tensor::zeros({1}));
  b->trainable = false;
  tg::SGD opt({a, b}, {.learning_rate = 1.0f, .global_clipnorm = 5.0f});
  backward_with({a, b}, {Tensor::from({1}, {3.0f}), Tensor::from({1}, {400.0f})});
  opt.step();
  EXPECT_NEAR(applied(Tensor::zeros({1}), a)[0], 3.0f, 1e-6);  // N = 3 < 5: unclipped
  EXPECT_EQ(b->var.value().item(), 0.0f);
}

TEST(Clipping, RegularizerGradientIsAddedBeforeClipping) {
  // The loss gives no gradient; L2(0.5) gives 2 * 0.5 * w = w = 10, which clipvalue cuts to 1.
  auto w = param("w", Tensor::full({1}, 10.0f));
  w->regularizer = tg::L2(0.5f);
  tg::SGD opt({w}, {.learning_rate = 1.0f, .clipvalue = 1.0f});
  backward_with({w}, {Tensor::zeros({1})});
  opt.step();
  EXPECT_FLOAT_EQ(w->var.value().item(), 9.0f);
}

TEST(Clipping, ClipnormWithGlobalClipnormIsAnError) {
  auto w = param("w", Tensor::zeros({1}));
  EXPECT_ERROR(tg::SGD({w}, {.clipnorm = 1.0f, .global_clipnorm = 2.0f}),
               {"SGD", "clipnorm (1)", "global_clipnorm (2)", "cannot both be set"});
  EXPECT_ERROR(tg::SGD({w}, {.clipvalue = -1.0f}), {"SGD", "clipvalue", "> 0", "-1"});
  EXPECT_ERROR(tg::SGD({w}, {.clipnorm = 0.0f}), {"SGD", "clipnorm", "> 0"});
}
