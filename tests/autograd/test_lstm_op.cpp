// lstm_sequence: gradcheck of every input (strong enough that a backward 10% off fails), the
// forward and every gradient against the same recurrence written step by step with the tape's
// plain ops, go_backwards, other activations, and the same bits at any thread count; under
// mixed_bfloat16, the same against the plain ops in bfloat16, on every bf16 ISA.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "../error_matchers.h"
#include "../bf16_testing.h"
#include "../test_data.h"
#include "gradcheck_strength.h"
#include "recurrent_reference.h"
#include "tapegrad/autograd/compute_dtype.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/recurrent.h"
#include "tapegrad/core/bf16.h"
#include "tapegrad/core/parallel.h"

namespace tg = tapegrad;
using gradcheck_strength::detects_10_percent_error;
using gradcheck_strength::passes;
using tg::Tensor;
using tg::Variable;
using tapegrad::testing::available_bf16_isas;
using tapegrad::testing::relative_difference;
using tg::testing::normal;
using recurrent_reference::lstm_by_steps;

namespace {

struct Inputs {
  Tensor x, w, u, b, h0, c0;
};

Inputs inputs(int64_t batch, int64_t steps, int64_t features, int64_t units, uint64_t seed) {
  return {tg::mul(normal({batch, steps, features}, seed), 0.8f), tg::mul(normal({features, 4 * units}, seed + 1), 0.5f),
          tg::mul(normal({units, 4 * units}, seed + 2), 0.5f),  tg::mul(normal({4 * units}, seed + 3), 0.3f),
          tg::mul(normal({batch, units}, seed + 4), 0.5f),      tg::mul(normal({batch, units}, seed + 5), 0.5f)};
}

std::vector<tg::LSTMOpOptions> variants() {
  using A = tg::RecurrentActivation;
  return {{}, {.go_backwards = true}, {.activation = A::relu, .recurrent_activation = A::hard_sigmoid},
          {.activation = A::linear, .recurrent_activation = A::sigmoid, .go_backwards = true}};
}

}  // namespace

TEST(LstmOp, GradcheckEveryInput) {
  const Inputs in = inputs(3, 4, 3, 2, 10);
  for (const auto& o : variants()) {
    const auto f = [&o](const std::vector<Variable>& v) { return tg::lstm_sequence(v[0], v[1], v[2], v[3], v[4], v[5], o); };
    const std::vector<Tensor> args{in.x, in.w, in.u, in.b, in.h0, in.c0};
    EXPECT_TRUE(passes(f, args));
    EXPECT_TRUE(detects_10_percent_error(f, args));
  }
}

// Small, and (14, 3, 4, 40): 40 units are a 32-column panel and an 8-column one of each gate
// (recurrent_product.h), 14 rows a tile of 12 and one of 2.
TEST(LstmOp, MatchesTheRecurrenceWrittenWithPlainOps) {
  for (const auto& [batch, steps, features, units] : {std::array<int64_t, 4>{5, 6, 4, 3}, std::array<int64_t, 4>{14, 3, 4, 40}})
  for (const auto& o : variants()) {
    const Inputs in = inputs(batch, steps, features, units, 20);
    SCOPED_TRACE("units " + std::to_string(units));
    std::vector<Variable> a{Variable(in.x, true), Variable(in.w, true), Variable(in.u, true),
                            Variable(in.b, true), Variable(in.h0, true), Variable(in.c0, true)};
    std::vector<Variable> r{Variable(in.x, true), Variable(in.w, true), Variable(in.u, true),
                            Variable(in.b, true), Variable(in.h0, true), Variable(in.c0, true)};
    const Tensor weights = normal({batch, steps, 2 * units}, 99);  // a projection, so every output element matters
    Variable ya = tg::lstm_sequence(a[0], a[1], a[2], a[3], a[4], a[5], o);
    Variable yr = lstm_by_steps(r[0], r[1], r[2], r[3], r[4], r[5], o);
    ASSERT_EQ(ya.value().shape(), yr.value().shape());
    for (int64_t k = 0; k < ya.value().numel(); ++k)
      ASSERT_NEAR(ya.value().data()[k], yr.value().data()[k], 1e-5f * (1.0f + std::fabs(yr.value().data()[k]))) << k;
    tg::sum(ya * Variable(weights)).backward();
    tg::sum(yr * Variable(weights)).backward();
    for (size_t i = 0; i < a.size(); ++i)
      for (int64_t k = 0; k < a[i].grad().numel(); ++k)
        ASSERT_NEAR(a[i].grad().data()[k], r[i].grad().data()[k], 2e-5f * (1.0f + std::fabs(r[i].grad().data()[k])))
            << "input " << i << " element " << k;
  }
}

TEST(LstmOp, WithoutBiasOrInitialStatesStartsFromZeros) {
  const Inputs in = inputs(2, 3, 2, 2, 30);
  Variable x(in.x, true), w(in.w, true), u(in.u, true);
  const Tensor y = tg::lstm_sequence(x, w, u, {}, {}, {}).value();
  const Tensor zeros = Tensor::zeros({2, 2});
  const Tensor ref = lstm_by_steps(x, w, u, Variable(Tensor::zeros({8})), Variable(zeros), Variable(zeros), {}).value();
  for (int64_t k = 0; k < y.numel(); ++k) ASSERT_NEAR(y.data()[k], ref.data()[k], 1e-6f);
}

TEST(LstmOp, SameBitsAtAnyThreadCount) {
  const Inputs in = inputs(37, 5, 6, 70, 40);  // blocks of units (32, 32, 6) and of rows, partial ones among them
  auto run = [&](int threads) {
    tg::set_num_threads(threads);
    Variable x(in.x, true), w(in.w, true), u(in.u, true), b(in.b, true);
    Variable y = tg::lstm_sequence(x, w, u, b, {}, {}, {.go_backwards = true});
    tg::sum(y * y).backward();
    return std::vector<Tensor>{y.value(), x.grad(), w.grad(), u.grad(), b.grad()};
  };
  const auto one = run(1), two = run(2);
  tg::set_num_threads(2);
  for (size_t i = 0; i < one.size(); ++i)
    for (int64_t k = 0; k < one[i].numel(); ++k) ASSERT_EQ(one[i].data()[k], two[i].data()[k]) << i << " " << k;
}

TEST(LstmOp, BadShapesAreClearErrors) {
  const Inputs in = inputs(2, 3, 4, 2, 50);
  EXPECT_ERROR(tg::lstm_sequence(Variable(in.w), Variable(in.w), Variable(in.u), {}, {}, {}), {"lstm", "(batch, steps, features)"});
  EXPECT_ERROR(tg::lstm_sequence(Variable(in.x), Variable(in.u), Variable(in.u), {}, {}, {}), {"lstm", "kernel (2, 8)", "features 4"});
  EXPECT_ERROR(tg::lstm_sequence(Variable(in.x), Variable(in.w), Variable(in.u), Variable(in.h0), {}, {}), {"lstm", "bias (2, 2)"});
  EXPECT_ERROR(tg::lstm_sequence(Variable(in.x), Variable(in.w), Variable(in.u), {}, Variable(in.b), {}),
               {"lstm", "initial state (8,)", "(2, 2)"});
  EXPECT_ERROR(tg::recurrent_activation("gelu", "LSTM 'lstm'"), {"LSTM 'lstm'", "gelu", "hard_sigmoid"});
}

namespace {

// The op's output and the gradients of every input under `compute`, for a projection of the output.
std::vector<Tensor> lstm_run(const Inputs& in, tg::Dtype compute, bool by_steps) {
  std::vector<Variable> v{Variable(in.x, true), Variable(in.w, true), Variable(in.u, true),
                          Variable(in.b, true), Variable(in.h0, true), Variable(in.c0, true)};
  Variable y;
  {
    const tg::ComputeDtypeScope scope(compute);
    y = by_steps ? lstm_by_steps(v[0], v[1], v[2], v[3], v[4], v[5], {}) : tg::lstm_sequence(v[0], v[1], v[2], v[3], v[4], v[5], {});
  }
  tg::sum(y * Variable(normal(y.value().shape(), 98))).backward();  // outside the scope: in the dtype the forward recorded
  std::vector<Tensor> out{y.value()};
  for (const Variable& i : v) out.push_back(i.grad());
  return out;
}

const char* const kWhat[] = {"output", "x", "kernel", "recurrent kernel", "bias", "h0", "c0"};

}  // namespace

// mixed_bfloat16: the products of x W and h U, forward and backward, in bf16 with float32
// accumulation, on every bf16 ISA this CPU has. Against the plain-ops recurrence under the same
// policy (its matmuls round the same operands): over one step the two differ only in the order of
// float32 sums, so they agree to 1e-5 where float32 would be 1e-3 off; over many steps h's
// rounding to bf16 can fall either side of a tie, so they agree to the bf16 precision.
TEST(LstmOp, Bfloat16ProductsOnEveryIsaAndThreadCount) {
  struct Dims {
    int64_t batch, steps, units;
    double bound;
  };
  for (const Dims& d : {Dims{14, 1, 40, 1e-5}, Dims{14, 6, 40, 2e-2}}) {
    const Inputs in = inputs(d.batch, d.steps, 12, d.units, 60);
    const std::vector<Tensor> want = lstm_run(in, tg::Dtype::bfloat16, true), float32 = lstm_run(in, tg::Dtype::float32, false);
    if (d.steps == 1)
      for (size_t i = 0; i < want.size(); ++i)
        if (i != 4) EXPECT_GT(relative_difference(float32[i], want[i]), 1e-4) << kWhat[i] << ": the data must tell bf16 from float32";
    for (tg::Bf16Isa isa : available_bf16_isas()) {
      tg::set_bf16_isa(isa);
      std::vector<Tensor> first;
      for (int threads : {1, 2}) {
        tg::set_num_threads(threads);
        const std::vector<Tensor> got = lstm_run(in, tg::Dtype::bfloat16, false);
        for (size_t i = 0; i < got.size(); ++i) {
          EXPECT_LT(relative_difference(got[i], want[i]), d.bound) << tg::bf16_isa_name(isa) << " " << d.steps << " steps, " << kWhat[i];
          if (threads == 2) EXPECT_EQ(got[i].to_vector(), first[i].to_vector()) << kWhat[i] << ": depends on the thread count";
        }
        first = got;
      }
    }
    tg::set_bf16_isa(tg::best_bf16_isa());
  }
}
