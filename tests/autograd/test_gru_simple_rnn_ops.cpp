// gru_sequence (with and without reset_after) and simple_rnn_sequence: gradcheck of every input
// (strong enough that a backward 10% off fails), the forward and every gradient against the same
// recurrence written step by step with plain ops (recurrent_reference.h), go_backwards, other
// activations, and the same bits at any thread count.
#include <gtest/gtest.h>

#include <cmath>

#include "../error_matchers.h"
#include "../test_data.h"
#include "gradcheck_strength.h"
#include "recurrent_reference.h"
#include "tapegrad/core/parallel.h"

namespace tg = tapegrad;
using gradcheck_strength::detects_10_percent_error;
using gradcheck_strength::passes;
using tg::Tensor;
using tg::Variable;
using tg::testing::normal;
using A = tg::RecurrentActivation;

namespace {

Tensor scaled(const tg::Shape& s, uint64_t seed, float k) { return tg::mul(normal(s, seed), k); }

// Same value and gradients (of a projection of the output) from the op and from the reference.
void expect_same(const std::function<Variable(const std::vector<Variable>&)>& op,
                 const std::function<Variable(const std::vector<Variable>&)>& reference, const std::vector<Tensor>& in) {
  std::vector<Variable> a, r;
  for (const Tensor& t : in) a.emplace_back(t, true), r.emplace_back(t, true);
  Variable ya = op(a), yr = reference(r);
  ASSERT_EQ(ya.value().shape(), yr.value().shape());
  for (int64_t k = 0; k < ya.value().numel(); ++k) ASSERT_NEAR(ya.value().data()[k], yr.value().data()[k], 1e-5f) << k;
  const Variable p(normal(ya.value().shape(), 77));
  tg::sum(ya * p).backward();
  tg::sum(yr * p).backward();
  for (size_t i = 0; i < a.size(); ++i)
    for (int64_t k = 0; k < a[i].grad().numel(); ++k)
      ASSERT_NEAR(a[i].grad().data()[k], r[i].grad().data()[k], 2e-5f * (1.0f + std::fabs(r[i].grad().data()[k])))
          << "input " << i << " element " << k;
}

std::vector<tg::GRUOpOptions> gru_variants() {
  return {{}, {.reset_after = false}, {.go_backwards = true},
          {.activation = A::relu, .recurrent_activation = A::hard_sigmoid, .reset_after = false, .go_backwards = true}};
}

std::vector<Tensor> gru_inputs(int64_t batch, int64_t steps, int64_t features, int64_t units, bool reset_after, uint64_t seed) {
  return {scaled({batch, steps, features}, seed, 0.8f), scaled({features, 3 * units}, seed + 1, 0.5f),
          scaled({units, 3 * units}, seed + 2, 0.5f),
          reset_after ? scaled({2, 3 * units}, seed + 3, 0.3f) : scaled({3 * units}, seed + 3, 0.3f),
          scaled({batch, units}, seed + 4, 0.5f)};
}

auto gru_op(const tg::GRUOpOptions& o) {
  return [o](const std::vector<Variable>& v) { return tg::gru_sequence(v[0], v[1], v[2], v[3], v[4], o); };
}

}  // namespace

TEST(GruOp, GradcheckEveryInput) {
  for (const auto& o : gru_variants()) {
    const auto in = gru_inputs(3, 4, 3, 2, o.reset_after, 10);
    EXPECT_TRUE(passes(gru_op(o), in));
    EXPECT_TRUE(detects_10_percent_error(gru_op(o), in));
  }
}

TEST(GruOp, MatchesTheRecurrenceWrittenWithPlainOps) {
  for (const auto& o : gru_variants()) {
    SCOPED_TRACE(o.reset_after ? "reset_after" : "reset_before");
    expect_same(gru_op(o),
                [o](const std::vector<Variable>& v) { return recurrent_reference::gru_by_steps(v[0], v[1], v[2], v[3], v[4], o); },
                gru_inputs(5, 6, 4, 3, o.reset_after, 20));
  }
}

TEST(GruOp, SameBitsAtAnyThreadCount) {
  for (bool reset_after : {true, false}) {
    const auto in = gru_inputs(37, 5, 6, 9, reset_after, 40);
    auto run = [&](int threads) {
      tg::set_num_threads(threads);
      std::vector<Variable> v;
      for (const Tensor& t : in) v.emplace_back(t, true);
      Variable y = tg::gru_sequence(v[0], v[1], v[2], v[3], {}, {.reset_after = reset_after, .go_backwards = true});
      tg::sum(y * y).backward();
      return std::vector<Tensor>{y.value(), v[0].grad(), v[1].grad(), v[2].grad(), v[3].grad()};
    };
    const auto one = run(1), two = run(2);
    tg::set_num_threads(2);
    for (size_t i = 0; i < one.size(); ++i)
      for (int64_t k = 0; k < one[i].numel(); ++k) ASSERT_EQ(one[i].data()[k], two[i].data()[k]) << i << " " << k;
  }
}

TEST(GruOp, BadShapesAreClearErrors) {
  const auto in = gru_inputs(2, 3, 4, 2, true, 50);
  EXPECT_ERROR(tg::gru_sequence(Variable(in[0]), Variable(in[1]), Variable(in[2]), Variable(in[4]), {}),
               {"gru", "bias (2, 2)", "(2, 6)"});
  EXPECT_ERROR(tg::gru_sequence(Variable(in[0]), Variable(in[1]), Variable(in[2]), Variable(in[3]), {}, {.reset_after = false}),
               {"gru", "bias (2, 6)", "(6,)"});
  EXPECT_ERROR(tg::gru_sequence(Variable(in[0]), Variable(in[2]), Variable(in[2]), {}, {}), {"gru", "kernel (2, 6)", "3 units"});
}

namespace {
std::vector<Tensor> rnn_inputs(int64_t batch, int64_t steps, int64_t features, int64_t units, uint64_t seed) {
  return {scaled({batch, steps, features}, seed, 0.8f), scaled({features, units}, seed + 1, 0.5f),
          scaled({units, units}, seed + 2, 0.5f), scaled({units}, seed + 3, 0.3f), scaled({batch, units}, seed + 4, 0.5f)};
}
std::vector<tg::SimpleRNNOpOptions> rnn_variants() { return {{}, {.go_backwards = true}, {.activation = A::relu}}; }
auto rnn_op(const tg::SimpleRNNOpOptions& o) {
  return [o](const std::vector<Variable>& v) { return tg::simple_rnn_sequence(v[0], v[1], v[2], v[3], v[4], o); };
}
}  // namespace

TEST(SimpleRnnOp, GradcheckAndTheRecurrenceWithPlainOps) {
  for (const auto& o : rnn_variants()) {
    const auto small = rnn_inputs(3, 4, 3, 2, 60);
    EXPECT_TRUE(passes(rnn_op(o), small));
    EXPECT_TRUE(detects_10_percent_error(rnn_op(o), small));
    expect_same(rnn_op(o),
                [o](const std::vector<Variable>& v) {
                  return recurrent_reference::simple_rnn_by_steps(v[0], v[1], v[2], v[3], v[4], o);
                },
                rnn_inputs(5, 6, 4, 3, 70));
  }
}

TEST(SimpleRnnOp, SameBitsAtAnyThreadCountAndClearErrors) {
  const auto in = rnn_inputs(37, 5, 6, 9, 80);
  auto run = [&](int threads) {
    tg::set_num_threads(threads);
    Variable x(in[0], true), w(in[1], true), u(in[2], true), b(in[3], true);
    Variable y = tg::simple_rnn_sequence(x, w, u, b, {}, {.go_backwards = true});
    tg::sum(y * y).backward();
    return std::vector<Tensor>{y.value(), x.grad(), w.grad(), u.grad(), b.grad()};
  };
  const auto one = run(1), two = run(2);
  tg::set_num_threads(2);
  for (size_t i = 0; i < one.size(); ++i)
    for (int64_t k = 0; k < one[i].numel(); ++k) ASSERT_EQ(one[i].data()[k], two[i].data()[k]) << i << " " << k;
  EXPECT_ERROR(tg::simple_rnn_sequence(Variable(in[0]), Variable(in[1]), Variable(in[2]), Variable(in[4]), {}),
               {"simple_rnn", "bias (37, 9)", "(9,)"});
  EXPECT_ERROR(tg::simple_rnn_sequence(Variable(in[0]), Variable(in[1]), Variable(in[2]), {}, Variable(in[3])),
               {"simple_rnn", "initial state (9,)"});
}
