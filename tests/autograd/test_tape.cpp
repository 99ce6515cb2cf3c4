// The tape: recording, backward, accumulation, NoGradGuard, detach, and its error cases.
#include <gtest/gtest.h>

#include <cmath>

#include "../error_matchers.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "core/tensor_ops.h"

namespace tg = tapegrad;
using tg::Shape;
using tg::Tensor;
using tg::Variable;

TEST(Tape, RecordsOnlyWhenAnInputRequiresGrad) {
  tg::clear_tape();
  Variable a(Tensor::ones({2})), b(Tensor::ones({2}), true);
  Variable c = a * a;
  EXPECT_FALSE(c.requires_grad());
  EXPECT_EQ(tg::tape_size(), 0u);
  Variable d = a * b;
  EXPECT_TRUE(d.requires_grad());
  EXPECT_FALSE(d.is_leaf());
  EXPECT_EQ(tg::tape_size(), 1u);
  tg::clear_tape();
}

TEST(Tape, BackwardOfAScalarChain) {
  // y = sum((2x + 1)^2); dy/dx = 4 (2x + 1)
  Variable x(Tensor::from({3}, {0.5f, -1.0f, 2.0f}), true);
  Variable y = tg::sum(tg::pow(x * 2.0f + 1.0f, 2.0f));
  y.backward();
  const std::vector<float> expect = {8.0f, -4.0f, 20.0f};
  for (int i = 0; i < 3; ++i) EXPECT_FLOAT_EQ(x.grad().data()[i], expect[i]);
  EXPECT_EQ(tg::tape_size(), 0u) << "backward frees the tape";
}

TEST(Tape, AccumulatesWhenAVariableIsUsedTwice) {
  // y = x * x + x  => dy/dx = 2x + 1
  Variable x(Tensor::from({2}, {3.0f, -2.0f}), true);
  Variable y = tg::sum(x * x + x);
  y.backward();
  EXPECT_FLOAT_EQ(x.grad().data()[0], 7.0f);
  EXPECT_FLOAT_EQ(x.grad().data()[1], -3.0f);
}

TEST(Tape, GradientsAccumulateAcrossBackwardCallsUntilZeroGrad) {
  Variable x(Tensor::from({1}, {2.0f}), true);
  tg::sum(x * 3.0f).backward();
  tg::sum(x * 3.0f).backward();
  EXPECT_FLOAT_EQ(x.grad().item(), 6.0f);
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
  tg::sum(x * 3.0f).backward();
  EXPECT_FLOAT_EQ(x.grad().item(), 3.0f);
}

TEST(Tape, DiamondGraph) {
  // a = x^2, b = exp(x), y = a * b  =>  dy/dx = 2x e^x + x^2 e^x
  Variable x(Tensor::from({1}, {0.7f}), true);
  Variable a = x * x;
  Variable b = tg::exp(x);
  tg::sum(a * b).backward();
  const float v = 0.7f;
  EXPECT_NEAR(x.grad().item(), (2 * v + v * v) * std::exp(v), 1e-5);
}

TEST(Tape, BackwardWithAnExplicitOutputGradient) {
  Variable x(Tensor::from({2, 2}, {1, 2, 3, 4}), true);
  Variable y = x * 3.0f;
  y.backward(Tensor::from({2, 2}, {1, 0, -1, 2}));
  EXPECT_TRUE(tg::allclose(x.grad(), Tensor::from({2, 2}, {3, 0, -3, 6})));
}

TEST(Tape, NonScalarBackwardWithoutGradientIsAnError) {
  Variable x(Tensor::ones({2, 3}), true);
  Variable y = x * 2.0f;
  EXPECT_ERROR(y.backward(), {"backward", "(2, 3)", "grad_output"});
  EXPECT_ERROR(y.backward(Tensor::ones({3, 2})), {"backward", "(3, 2)", "(2, 3)"});
  tg::clear_tape();
}

TEST(Tape, BackwardOnAFreedTapeIsAnError) {
  Variable x(Tensor::ones({2}), true);
  Variable y = tg::sum(x * x);
  Variable z = tg::sum(x * 3.0f);
  y.backward();
  EXPECT_ERROR(y.backward(), {"backward", "already freed"});
  EXPECT_ERROR(z.backward(), {"backward", "already freed"});
  Variable w = tg::sum(x);
  tg::clear_tape();
  EXPECT_ERROR(w.backward(), {"already freed"});
}

TEST(Tape, BackwardOnAVariableWithoutGradIsAnError) {
  Variable x(Tensor::ones({2}));
  Variable y = tg::sum(x * 2.0f);
  EXPECT_ERROR(y.backward(), {"backward", "does not require grad"});
}

TEST(Tape, NoGradGuardStopsRecordingAndRestores) {
  tg::clear_tape();
  Variable x(Tensor::ones({2}), true);
  {
    tg::NoGradGuard guard;
    EXPECT_FALSE(tg::is_recording());
    Variable y = x * 2.0f;
    EXPECT_FALSE(y.requires_grad());
    {
      tg::NoGradGuard nested;
    }
    EXPECT_FALSE(tg::is_recording()) << "a nested guard restores the outer state";
  }
  EXPECT_TRUE(tg::is_recording());
  EXPECT_EQ(tg::tape_size(), 0u);
}

TEST(Tape, DetachStopsGradients) {
  // y = x * detach(x): only the first factor carries a gradient, dy/dx = x.
  Variable x(Tensor::from({1}, {5.0f}), true);
  Variable d = x.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.value().shares_storage(x.value()));
  tg::sum(x * d).backward();
  EXPECT_FLOAT_EQ(x.grad().item(), 5.0f);
}

TEST(Tape, IntermediateGradientsAreFreedLeafGradientsKept) {
  Variable x(Tensor::ones({3}), true);
  Variable h = x * 2.0f;
  Variable y = tg::sum(h);
  y.backward();
  EXPECT_FALSE(h.grad().defined());
  EXPECT_TRUE(x.grad().defined());
}

TEST(Tape, BroadcastGradientsAreSummedToEachInputShape) {
  Variable a(Tensor::ones({2, 3}), true), b(Tensor::from({3}, {1, 2, 3}), true);
  tg::sum(a * b).backward();
  EXPECT_EQ(b.grad().shape(), Shape({3}));
  EXPECT_TRUE(tg::allclose(b.grad(), Tensor::from({3}, {2, 2, 2})));
  EXPECT_TRUE(tg::allclose(a.grad(), Tensor::from({2, 3}, {1, 2, 3, 1, 2, 3})));
}

TEST(Tape, ABackwardThatReturnsAWrongShapeIsReported) {
  Variable x(Tensor::ones({2, 2}), true);
  Variable y = tg::record("broken_op", x.value().clone(), {x},
                          [](const Tensor&, tg::GradSink& s) { s.set(0, Tensor::ones({4})); });
  EXPECT_ERROR(tg::sum(y).backward(), {"broken_op", "(4,)", "(2, 2)"});
  EXPECT_EQ(tg::tape_size(), 0u) << "a failed backward still frees the tape";
}

TEST(Tape, UndefinedInputsAreErrors) {
  Variable undefined;
  Variable x(Tensor::ones({2}), true);
  EXPECT_ERROR(tg::add(x, undefined), {"undefined"});
  EXPECT_ERROR((void)Variable(Tensor()), {"Variable", "undefined"});
}

TEST(Tape, LeafBackwardSeedsItself) {
  Variable x(Tensor::from({1}, {4.0f}), true);
  x.backward();
  EXPECT_FLOAT_EQ(x.grad().item(), 1.0f);
}

TEST(Tape, SetRequiresGradOnAnOpResultIsAnError) {
  Variable x(Tensor::ones({2}), true);
  Variable y = x * 2.0f;
  EXPECT_ERROR(y.set_requires_grad(false), {"set_requires_grad", "detach"});
  tg::clear_tape();
}

TEST(Tape, IsolatedTapeRecordsUnderNoGradAndLeavesTheOuterTapeAlone) {
  tg::clear_tape();
  Variable x(Tensor::from({1}, {3.0f}), true);
  Variable outer = x * x;  // one node on the outer tape, still to be used
  {
    tg::NoGradGuard no_grad;
    tg::IsolatedTape isolated;
    EXPECT_TRUE(tg::is_recording());
    EXPECT_EQ(tg::tape_size(), 0u);
    Variable w(Tensor::from({1}, {2.0f}), true);
    tg::sum(w * w * w).backward();
    EXPECT_FLOAT_EQ(w.grad().item(), 12.0f);
  }
  EXPECT_TRUE(tg::is_recording());
  EXPECT_EQ(tg::tape_size(), 1u);
  tg::sum(outer).backward();
  EXPECT_FLOAT_EQ(x.grad().item(), 6.0f);
}
