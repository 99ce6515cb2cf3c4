// Regularizers and constraints by name, custom callables and subclasses, and the norm
// constraints' formulas on the right axes (Keras' defaults: axis 0).
#include <gtest/gtest.h>

#include <cmath>

#include "../error_matchers.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/constraint.h"
#include "tapegrad/layers/regularizer.h"

namespace tg = tapegrad;
using tg::Tensor;
using tg::Variable;

namespace {
// L2 norms of the columns (axis 0) of a 2-D tensor.
std::vector<double> column_norms(const Tensor& w) {
  std::vector<double> out;
  for (float n : tg::sqrt(tg::sum(tg::mul(w, w), {0})).to_vector()) out.push_back(n);
  return out;
}
}  // namespace

TEST(RegularizerByName, KerasDefaults) {
  const Tensor w = Tensor::from({2, 2}, {1.0f, -2.0f, 0.5f, 0.0f});  // sum|w| 3.5, sum w^2 5.25
  EXPECT_NEAR(tg::get_regularizer("l1")->value(w), 0.01 * 3.5, 1e-7);
  EXPECT_NEAR(tg::get_regularizer("l2")->value(w), 0.01 * 5.25, 1e-7);
  EXPECT_NEAR(tg::get_regularizer("l1_l2")->value(w), 0.01 * 3.5 + 0.01 * 5.25, 1e-7);
  EXPECT_EQ(tg::regularizer_names(), (std::vector<std::string>{"l1", "l1_l2", "l2"}));
  EXPECT_ERROR(tg::get_regularizer("l3"), {"Regularizer", "'l3'", "l1", "l1_l2", "l2"});
}

TEST(RegularizerCustom, CallableGradientEqualsThePenaltysEvenUnderNoGrad) {
  // 0.5 * sum(w^4): gradient 2 w^3.
  tg::CallableRegularizer quartic([](const Variable& w) { return tg::mul(tg::sum(tg::pow(w, 4.0f)), 0.5f); }, "quartic");
  const Tensor w = Tensor::from({3}, {1.0f, -2.0f, 0.5f});
  EXPECT_NEAR(quartic.value(w), 0.5 * (1 + 16 + 0.0625), 1e-5);
  Tensor grad = Tensor::ones({3});
  {
    tg::NoGradGuard no_grad;  // as inside Optimizer::step
    quartic.add_gradient(w, grad);
  }
  EXPECT_TRUE(tg::allclose(grad, Tensor::from({3}, {1 + 2.0f, 1 - 16.0f, 1 + 0.25f}), 1e-5f));
  // As an activity penalty it is an op on the tape.
  Variable x(w.clone(), true);
  quartic.penalty(x).backward();
  EXPECT_NEAR(x.grad().data()[1], -16.0, 1e-4);
  tg::CallableRegularizer not_scalar([](const Variable& v) { return v; }, "identity");
  EXPECT_ERROR(not_scalar.value(w), {"CallableRegularizer 'identity'", "scalar", "(3,)"});
}

namespace {
// A subclass: a penalty on the sum of the weights (not the squares).
class SumPenalty : public tg::Regularizer {
 public:
  Variable penalty(const Variable& x) const override { return tg::mul(tg::sum(x), 0.1f); }
  double value(const Tensor& w) const override { return 0.1 * tg::sum_all(w); }
  void add_gradient(const Tensor& w, Tensor& grad) const override { tg::axpy_(grad, Tensor::ones(w.shape()), 0.1f); }
};
}  // namespace

TEST(RegularizerCustom, SubclassWorksThroughTheBaseInterface) {
  std::shared_ptr<const tg::Regularizer> r = std::make_shared<SumPenalty>();
  Tensor g = Tensor::zeros({2});
  r->add_gradient(Tensor::ones({2}), g);
  EXPECT_FLOAT_EQ(g.data()[0], 0.1f);
}

TEST(ConstraintUnitNorm, NormalizesAlongTheGivenAxisOnly) {
  const Tensor w0 = Tensor::from({2, 3}, {3, 1, 0, 4, 1, 2});
  Tensor by_col = w0.clone();
  tg::UnitNorm().apply(by_col);  // Keras default axis 0: each column
  for (double n : column_norms(by_col)) EXPECT_NEAR(n, 1.0, 1e-6);
  EXPECT_NEAR(by_col.at({0, 0}), 0.6, 1e-6);
  Tensor by_row = w0.clone();
  tg::UnitNorm({1}).apply(by_row);
  EXPECT_NEAR(by_row.at({0, 0}), 3 / std::sqrt(10.0), 1e-6);
  EXPECT_NEAR(by_row.at({1, 2}), 2 / std::sqrt(21.0), 1e-6);
  // Conv kernel (rows, cols, in, out), axes {0, 1, 2}: one unit norm per filter.
  tg::Rng rng(1);
  Tensor k = Tensor::randn({3, 3, 2, 4}, rng);
  tg::UnitNorm({0, 1, 2}).apply(k);
  for (float n : tg::sqrt(tg::sum(tg::mul(k, k), {0, 1, 2})).to_vector()) EXPECT_NEAR(n, 1.0f, 1e-5);
  EXPECT_ERROR(tg::UnitNorm({2}).apply(by_row), {"UnitNorm", "axis 2"});
}

TEST(ConstraintMinMaxNorm, ClipsNormsIntoTheRangeAtTheGivenRate) {
  // Column norms 5, 0.5 and 1.5; range [1, 2].
  const Tensor w0 = Tensor::from({2, 3}, {3, 0.3f, 0.9f, 4, 0.4f, 1.2f});
  Tensor strict = w0.clone();
  tg::MinMaxNorm(1.0f, 2.0f).apply(strict);  // rate 1, axis 0
  const auto n = column_norms(strict);
  EXPECT_NEAR(n[0], 2.0, 1e-5);
  EXPECT_NEAR(n[1], 1.0, 1e-5);
  EXPECT_NEAR(n[2], 1.5, 1e-5);
  // rate 0.5: halfway from the norm to the clipped norm: 5 -> 3.5, 0.5 -> 0.75.
  Tensor half = w0.clone();
  tg::MinMaxNorm(1.0f, 2.0f, 0.5f).apply(half);
  const auto h = column_norms(half);
  EXPECT_NEAR(h[0], 3.5, 1e-5);
  EXPECT_NEAR(h[1], 0.75, 1e-5);
  EXPECT_NEAR(h[2], 1.5, 1e-5);
  // Keras' defaults: [0, 1], rate 1.
  Tensor def = w0.clone();
  tg::MinMaxNorm().apply(def);
  EXPECT_NEAR(column_norms(def)[0], 1.0, 1e-5);
  EXPECT_NEAR(column_norms(def)[1], 0.5, 1e-5);
  EXPECT_ERROR(tg::MinMaxNorm(2.0f, 1.0f), {"MinMaxNorm", "min_value"});
  EXPECT_ERROR(tg::MinMaxNorm(0.0f, 1.0f, 1.5f), {"MinMaxNorm", "rate"});
}

TEST(ConstraintByName, KerasDefaultsAndUnknownNames) {
  Tensor w = Tensor::from({2, 2}, {3, -0.3f, 4, 0.4f});  // column norms 5 and 0.5
  tg::get_constraint("max_norm")->apply(w);            // max 2
  EXPECT_NEAR(column_norms(w)[0], 2.0, 1e-5);
  EXPECT_NEAR(column_norms(w)[1], 0.5, 1e-6);
  tg::get_constraint("non_neg")->apply(w);
  EXPECT_EQ(w.at({0, 1}), 0.0f);
  tg::get_constraint("unit_norm")->apply(w);
  EXPECT_NEAR(column_norms(w)[0], 1.0, 1e-6);
  Tensor v = Tensor::from({2, 1}, {6, 8});
  tg::get_constraint("min_max_norm")->apply(v);
  EXPECT_NEAR(column_norms(v)[0], 1.0, 1e-6);
  EXPECT_EQ(tg::constraint_names(), (std::vector<std::string>{"max_norm", "min_max_norm", "non_neg", "unit_norm"}));
  EXPECT_ERROR(tg::get_constraint("maxnorm"), {"Constraint", "'maxnorm'", "max_norm", "unit_norm"});
}

TEST(ConstraintCustom, CallableReturnsTheNewValue) {
  tg::CallableConstraint clip01([](const Tensor& w) { return tg::clip(w, 0.0f, 1.0f); }, "clip01");
  Tensor w = Tensor::from({3}, {-1.0f, 0.5f, 2.0f});
  clip01.apply(w);
  EXPECT_TRUE(tg::allclose(w, Tensor::from({3}, {0.0f, 0.5f, 1.0f})));
  tg::CallableConstraint bad([](const Tensor&) { return Tensor::zeros({2}); }, "bad");
  EXPECT_ERROR(bad.apply(w), {"CallableConstraint 'bad'", "(2,)", "(3,)"});
}
