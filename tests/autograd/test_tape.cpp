// The tape: recording, backward, accumulation, NoGradGuard, detach, and its error cases.
#include <gtest/gtest.h>

#include <cmath>

#include "../error_matchers.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/tensor_ops.h"

namespace tg = tapegrad;
using tg::Shape;
using tg::Tensor;
using tg::Variable;

TEST(Tape, RecordsOnlyWhenAnInputRequiresGrad) {
  const size_t before = tg::live_graph_nodes();
  Variable a(Tensor::ones({2})), b(Tensor::ones({2}), true);
  {
    Variable c = a * a;
    EXPECT_FALSE(c.requires_grad());
    EXPECT_EQ(tg::live_graph_nodes(), before);
    Variable d = a * b;
    EXPECT_TRUE(d.requires_grad());
    EXPECT_FALSE(d.is_leaf());
    EXPECT_EQ(tg::live_graph_nodes(), before + 1);
  }
  EXPECT_EQ(tg::live_graph_nodes(), before) << "a graph goes with its last variable";
}

TEST(Tape, BackwardOfAScalarChain) {
  // y = sum((2x + 1)^2); dy/dx = 4 (2x + 1)
  const size_t before = tg::live_graph_nodes();
  Variable x(Tensor::from({3}, {0.5f, -1.0f, 2.0f}), true);
  Variable y = tg::sum(tg::pow(x * 2.0f + 1.0f, 2.0f));
  EXPECT_EQ(tg::live_graph_nodes(), before + 4);
  y.backward();
  const std::vector<float> expect = {8.0f, -4.0f, 20.0f};
  for (int i = 0; i < 3; ++i) EXPECT_FLOAT_EQ(x.grad().data()[i], expect[i]);
  EXPECT_EQ(tg::live_graph_nodes(), before) << "backward frees the nodes it walked";
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
}

TEST(Tape, BackwardThroughAFreedGraphIsAnErrorNamingTheOp) {
  Variable x(Tensor::ones({2}), true);
  Variable h = x * x;
  Variable y = tg::sum(h);
  y.backward();
  EXPECT_ERROR(y.backward(), {"backward", "already freed", "retain_graph", "'sum'"});
  // A new graph on top of a freed part reaches the freed node.
  EXPECT_ERROR(tg::sum(h * 2.0f).backward(), {"backward", "already freed", "'mul'"});
  EXPECT_FLOAT_EQ(x.grad().data()[0], 2.0f) << "the failed passes changed no gradient";
}

TEST(Tape, BackwardOnAVariableWithoutGradIsAnError) {
  Variable x(Tensor::ones({2}));
  Variable y = tg::sum(x * 2.0f);
  EXPECT_ERROR(y.backward(), {"backward", "does not require grad"});
}

TEST(Tape, NoGradGuardStopsRecordingAndRestores) {
  const size_t before = tg::live_graph_nodes();
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
  EXPECT_EQ(tg::live_graph_nodes(), before);
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
  Variable loss = tg::sum(y);
  EXPECT_ERROR(loss.backward(), {"broken_op", "(4,)", "(2, 2)"});
  EXPECT_ERROR(loss.backward(), {"already freed"});  // a failed backward still frees what it walked
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
}

TEST(Tape, EnableGradGuardRecordsUnderNoGradAndLeavesTheOuterGraphAlone) {
  Variable x(Tensor::from({1}, {3.0f}), true);
  Variable outer = x * x;  // an outer graph, still to be used
  {
    tg::NoGradGuard no_grad;
    tg::EnableGradGuard recording;
    EXPECT_TRUE(tg::is_recording());
    Variable w(Tensor::from({1}, {2.0f}), true);
    tg::sum(w * w * w).backward();
    EXPECT_FLOAT_EQ(w.grad().item(), 12.0f);
  }
  EXPECT_TRUE(tg::is_recording());
  tg::sum(outer).backward();
  EXPECT_FLOAT_EQ(x.grad().item(), 6.0f);
}
