// Graphs, not a tape per thread: independent graphs coexist, backward() frees only what it
// walked, retain_graph keeps it, grad() leaves grad() alone, and a tensor an op saved that was
// changed in place is an error at backward (issue 12, cases 1 and 5).
#include <gtest/gtest.h>

#include <cmath>

#include "../error_matchers.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/tensor_ops.h"

namespace tg = tapegrad;
using tg::Tensor;
using tg::Variable;

TEST(GraphLifetime, AnUnrelatedBackwardLeavesAnotherGraphAlone) {
  // The case 1: h's graph survives the backward of an independent loss.
  Variable w(Tensor::ones({2}), true);
  auto h = w * 3.0f;
  Variable o(Tensor::ones({2}), true);
  tg::sum(o * 2.0f).backward();
  tg::sum(h * h).backward();
  ASSERT_TRUE(w.grad().defined());
  EXPECT_TRUE(tg::allclose(w.grad(), Tensor::from({2}, {18, 18}), 0, 0));
  EXPECT_TRUE(tg::allclose(o.grad(), Tensor::from({2}, {2, 2}), 0, 0));
}

TEST(GraphLifetime, BackwardFreesOnlyTheNodesItWalked) {
  Variable x(Tensor::from({1}, {2.0f}), true);
  const size_t before = tg::live_graph_nodes();
  Variable shared = x * x;             // 1 node
  Variable a = tg::sum(shared * 3.0f); // 2 more
  Variable b = tg::exp(x);             // 1 more, independent of a
  EXPECT_EQ(tg::live_graph_nodes(), before + 4);
  a.backward();
  EXPECT_EQ(tg::live_graph_nodes(), before + 1) << "b's node is untouched";
  tg::sum(b).backward();
  EXPECT_FLOAT_EQ(x.grad().item(), 12.0f + std::exp(2.0f));
  EXPECT_EQ(tg::live_graph_nodes(), before);
}

TEST(GraphLifetime, RetainGraphAllowsASecondBackward) {
  Variable x(Tensor::from({1}, {3.0f}), true);
  Variable y = tg::sum(x * x * x);  // dy/dx = 3x^2 = 27
  y.backward({.retain_graph = true});
  EXPECT_FLOAT_EQ(x.grad().item(), 27.0f);
  y.backward();  // accumulates, and frees
  EXPECT_FLOAT_EQ(x.grad().item(), 54.0f);
  EXPECT_ERROR(y.backward(), {"already freed", "retain_graph"});
}

TEST(GraphLifetime, TwoLossesSharingAGeneratorOutputAsInAGanLoop) {
  // fake is reused: once detached for the critic, once attached for the generator.
  Variable g(Tensor::from({1}, {0.5f}), true), d(Tensor::from({1}, {2.0f}), true);
  Variable z(Tensor::from({1}, {4.0f}));
  Variable fake = g * z;  // 2
  Variable d_loss = tg::sum(d * fake.detach());
  d_loss.backward();
  EXPECT_FLOAT_EQ(d.grad().item(), 2.0f);
  EXPECT_FALSE(g.grad().defined()) << "detach() stops the critic's gradient at fake";
  d.zero_grad();
  Variable g_loss = tg::sum(d * fake);
  g_loss.backward();
  EXPECT_FLOAT_EQ(g.grad().item(), 8.0f);  // d * z
}

TEST(GraphLifetime, GradReturnsGradientsWithoutTouchingGrad) {
  Variable x(Tensor::from({2}, {1.0f, 2.0f}), true), w(Tensor::from({2}, {3.0f, -1.0f}), true);
  Variable h = x * w;                 // an intermediate result may be asked for too
  Variable y = tg::sum(h * h);        // dy/dx = 2 x w^2, dy/dw = 2 w x^2, dy/dh = 2h
  const auto g = tg::grad({y}, {x, w, h}, {}, {.retain_graph = true});
  ASSERT_EQ(g.size(), 3u);
  EXPECT_TRUE(tg::allclose(g[0], Tensor::from({2}, {18.0f, 4.0f}), 1e-6f, 0));
  EXPECT_TRUE(tg::allclose(g[1], Tensor::from({2}, {6.0f, -8.0f}), 1e-6f, 0));
  EXPECT_TRUE(tg::allclose(g[2], Tensor::from({2}, {6.0f, -4.0f}), 1e-6f, 0));
  EXPECT_FALSE(x.grad().defined());
  EXPECT_FALSE(w.grad().defined());
  // The graph was retained: backward still works and fills grad().
  y.backward();
  EXPECT_TRUE(tg::allclose(x.grad(), g[0], 0, 0));
}

TEST(GraphLifetime, GradWithOutputGradientsAndUnusedInputs) {
  Variable x(Tensor::from({2}, {1.0f, 2.0f}), true), unused(Tensor::ones({3}), true);
  Variable y = x * 5.0f;
  EXPECT_ERROR((void)tg::grad({y}, {x}), {"grad", "(2,)", "grad_outputs"});
  EXPECT_ERROR((void)tg::grad({y}, {x, unused}, {Tensor::ones({2})}, {.retain_graph = true}),
               {"grad", "input 1", "not used", "allow_unused"});
  const auto g = tg::grad({y}, {x, unused}, {Tensor::from({2}, {1.0f, -2.0f})}, {.allow_unused = true});
  EXPECT_TRUE(tg::allclose(g[0], Tensor::from({2}, {5.0f, -10.0f}), 0, 0));
  EXPECT_FALSE(g[1].defined());
  EXPECT_ERROR((void)tg::grad({y}, {x}, {Tensor::ones({2})}), {"already freed"});
}

TEST(GraphLifetime, GradMatchesBackwardOnADiamond) {
  Variable x(Tensor::from({3}, {0.3f, -0.7f, 1.1f}), true);
  auto f = [&] { return tg::sum(tg::exp(x) * tg::tanh(x) + x * x); };
  const Tensor via_grad = tg::grad({f()}, {x})[0];
  f().backward();
  EXPECT_TRUE(tg::allclose(via_grad, x.grad(), 0, 0));
}

TEST(GraphLifetime, AModifiedSavedTensorIsAnErrorNamingTheOp) {
  // The case 5: w changed in place after mul saved it.
  Variable w(Tensor::ones({2}), true);
  auto l = tg::sum(w * w);
  w.value().fill_(5);
  EXPECT_ERROR(l.backward(), {"'mul'", "modified in place after it was recorded", "(2,)"});
  EXPECT_FALSE(w.grad().defined()) << "the refused backward changed nothing";
}

TEST(GraphLifetime, InPlaceChangesThroughViewsAndCopyFromAreSeen) {
  Variable x(Tensor::from({2, 2}, {1, 2, 3, 4}), true);
  Variable y = tg::sum(tg::exp(x));  // exp saves its output
  Tensor view = x.value().reshape({4});
  view.copy_from(Tensor::zeros({4}));
  EXPECT_ERROR(y.backward(), {"modified in place"});
  // An intermediate result changed in place is caught too.
  Variable x2(Tensor::from({2}, {1, 2}), true);
  Variable e = tg::exp(x2);
  Variable z = tg::sum(e * 2.0f);
  tg::axpy_(e.value(), Tensor::ones({2}));
  EXPECT_ERROR(z.backward(), {"modified in place"});
}

TEST(GraphLifetime, ChangesMadeBeforeRecordingOrToACloneAreFine) {
  Variable w(Tensor::ones({2}), true);
  w.value().fill_(2);  // before the op: nothing saved yet
  auto l = tg::sum(w * w);
  Tensor copy = w.value().clone();
  copy.fill_(7);
  l.backward();
  EXPECT_TRUE(tg::allclose(w.grad(), Tensor::from({2}, {4, 4}), 0, 0));
}

TEST(GraphLifetime, ADeepChainIsFreedWithoutRecursion) {
  // 200k nodes: destroying them recursively would overflow the stack.
  Variable x(Tensor::from({1}, {1.0f}), true);
  const size_t before = tg::live_graph_nodes();
  {
    Variable y = x;
    for (int i = 0; i < 200000; ++i) y = y * 1.0f;
    EXPECT_EQ(tg::live_graph_nodes(), before + 200000);
  }
  EXPECT_EQ(tg::live_graph_nodes(), before);
}
