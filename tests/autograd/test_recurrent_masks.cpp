// The recurrent ops with Keras' masks: at a skipped step the states carry over and the gradient
// of the state passes through. For each op (with and without go_backwards, a GRU with and
// without reset_after), from a mask with right and left padding, holes and samples with no step
// read: gradcheck of every input (strong enough that a backward 10% off fails), the value and
// every gradient against the recurrence written with plain ops (recurrent_reference.h), the same
// bits at any thread count, and the errors for a bad mask.
#include <gtest/gtest.h>

#include <functional>

#include "../error_matchers.h"
#include "../test_data.h"
#include "gradcheck_strength.h"
#include "recurrent_reference.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/recurrent.h"
#include "tapegrad/core/parallel.h"

namespace tg = tapegrad;
using gradcheck_strength::detects_10_percent_error;
using gradcheck_strength::passes;
using recurrent_reference::test_mask;
using tg::Tensor;
using tg::Variable;
using tg::testing::normal;

namespace {

using Fn = std::function<Variable(const std::vector<Variable>&)>;

Tensor scaled(const tg::Shape& s, uint64_t seed, float k) { return tg::mul(normal(s, seed), k); }

// x, kernel, recurrent kernel, bias, then the initial states (nonzero, so that a sample with no
// step read returns them).
std::vector<Tensor> inputs(int64_t batch, int64_t steps, int64_t features, int64_t units, int64_t gates,
                           const tg::Shape& bias, int states, uint64_t seed) {
  std::vector<Tensor> in{scaled({batch, steps, features}, seed, 0.8f), scaled({features, gates * units}, seed + 1, 0.5f),
                         scaled({units, gates * units}, seed + 2, 0.5f), scaled(bias, seed + 3, 0.3f)};
  for (int i = 0; i < states; ++i) in.push_back(scaled({batch, units}, seed + 4 + i, 0.5f));
  return in;
}

// One op under test: its call and its reference for a mask, and its inputs for a shape.
struct Case {
  std::string name;
  std::function<Fn(const Tensor& mask)> op, reference;
  std::function<std::vector<Tensor>(int64_t batch, int64_t steps, uint64_t seed)> make_inputs;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  for (bool backwards : {false, true}) {
    const std::string dir = backwards ? " go_backwards" : "";
    out.push_back({"lstm" + dir,
                   [backwards](const Tensor& m) -> Fn {
                     return [=](const std::vector<Variable>& v) {
                       return tg::lstm_sequence(v[0], v[1], v[2], v[3], v[4], v[5], {.go_backwards = backwards, .mask = m});
                     };
                   },
                   [backwards](const Tensor& m) -> Fn {
                     return [=](const std::vector<Variable>& v) {
                       return recurrent_reference::lstm_by_steps(v[0], v[1], v[2], v[3], v[4], v[5],
                                                                 {.go_backwards = backwards, .mask = m});
                     };
                   },
                   [](int64_t b, int64_t t, uint64_t seed) { return inputs(b, t, 3, 4, 4, {16}, 2, seed); }});
    for (bool reset_after : {true, false})
      out.push_back({std::string("gru") + (reset_after ? "" : " reset_before") + dir,
                     [=](const Tensor& m) -> Fn {
                       return [=](const std::vector<Variable>& v) {
                         return tg::gru_sequence(v[0], v[1], v[2], v[3], v[4],
                                                 {.reset_after = reset_after, .go_backwards = backwards, .mask = m});
                       };
                     },
                     [=](const Tensor& m) -> Fn {
                       return [=](const std::vector<Variable>& v) {
                         return recurrent_reference::gru_by_steps(v[0], v[1], v[2], v[3], v[4],
                                                                  {.reset_after = reset_after, .go_backwards = backwards, .mask = m});
                       };
                     },
                     [reset_after](int64_t b, int64_t t, uint64_t seed) {
                       return inputs(b, t, 3, 4, 3, reset_after ? tg::Shape({2, 12}) : tg::Shape({12}), 1, seed);
                     }});
    out.push_back({"simple_rnn" + dir,
                   [backwards](const Tensor& m) -> Fn {
                     return [=](const std::vector<Variable>& v) {
                       return tg::simple_rnn_sequence(v[0], v[1], v[2], v[3], v[4], {.go_backwards = backwards, .mask = m});
                     };
                   },
                   [backwards](const Tensor& m) -> Fn {
                     return [=](const std::vector<Variable>& v) {
                       return recurrent_reference::simple_rnn_by_steps(v[0], v[1], v[2], v[3], v[4],
                                                                       {.go_backwards = backwards, .mask = m});
                     };
                   },
                   [](int64_t b, int64_t t, uint64_t seed) { return inputs(b, t, 3, 4, 1, {4}, 1, seed); }});
  }
  return out;
}

}  // namespace

TEST(RecurrentMasks, GradcheckEveryInput) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    const Fn f = c.op(test_mask(4, 5));
    const auto in = c.make_inputs(4, 5, 10);
    EXPECT_TRUE(passes(f, in));
    EXPECT_TRUE(detects_10_percent_error(f, in));
  }
}

TEST(RecurrentMasks, MatchTheRecurrenceWrittenWithPlainOps) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    const Tensor mask = test_mask(9, 6);
    const auto in = c.make_inputs(9, 6, 20);
    std::vector<Variable> a, r;
    for (const Tensor& t : in) a.emplace_back(t, true), r.emplace_back(t, true);
    const Variable ya = c.op(mask)(a), yr = c.reference(mask)(r);
    ASSERT_EQ(ya.value().shape(), yr.value().shape());
    for (int64_t k = 0; k < ya.value().numel(); ++k) ASSERT_NEAR(ya.value().data()[k], yr.value().data()[k], 1e-5f) << k;
    const Variable p(normal(ya.value().shape(), 77));  // a projection, so every output element matters
    tg::sum(ya * p).backward();
    tg::sum(yr * p).backward();
    for (size_t i = 0; i < a.size(); ++i)
      for (int64_t k = 0; k < a[i].grad().numel(); ++k)
        ASSERT_NEAR(a[i].grad().data()[k], r[i].grad().data()[k], 2e-5f * (1.0f + std::fabs(r[i].grad().data()[k])))
            << "input " << i << " element " << k;
    // A sample with no step read returns its initial states at every step (sample 3).
    const Tensor y = ya.value();
    const int64_t width = y.dim(2), steps = y.dim(1);
    for (int64_t t = 0; t < steps; ++t)
      for (int64_t j = 0; j < width; ++j)
        ASSERT_EQ(y.data()[(3 * steps + t) * width + j], in[4 + j / 4].data()[3 * 4 + j % 4]) << t << " " << j;
  }
}

TEST(RecurrentMasks, SameBitsAtAnyThreadCount) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    const Tensor mask = test_mask(37, 5);  // several chunks of the batch, one partial
    const auto in = c.make_inputs(37, 5, 40);
    auto run = [&](int threads) {
      tg::set_num_threads(threads);
      std::vector<Variable> v;
      for (const Tensor& t : in) v.emplace_back(t, true);
      const Variable y = c.op(mask)(v);
      tg::sum(y * y).backward();
      std::vector<Tensor> out{y.value()};
      for (const auto& x : v) out.push_back(x.grad());
      return out;
    };
    const auto one = run(1), two = run(2);
    tg::set_num_threads(2);
    for (size_t i = 0; i < one.size(); ++i)
      for (int64_t k = 0; k < one[i].numel(); ++k) ASSERT_EQ(one[i].data()[k], two[i].data()[k]) << i << " " << k;
  }
}

TEST(RecurrentMasks, BadMasksAreClearErrors) {
  const auto in = inputs(2, 3, 3, 4, 4, {16}, 0, 50);
  const Variable x(in[0]), w(in[1]), u(in[2]);
  EXPECT_ERROR(tg::lstm_sequence(x, w, u, {}, {}, {}, {.mask = Tensor::ones({2, 4})}), {"lstm", "mask (2, 4)", "(batch, steps) = (2, 3)"});
  EXPECT_ERROR(tg::lstm_sequence(x, w, u, {}, {}, {}, {.mask = Tensor::full({2, 3}, 0.5f)}),
               {"lstm", "0 (skip the step) or 1 (read it)", "0.5", "sample 0, step 0"});
  const auto g = inputs(2, 3, 3, 4, 3, {2, 12}, 0, 60);
  EXPECT_ERROR(tg::gru_sequence(Variable(g[0]), Variable(g[1]), Variable(g[2]), {}, {}, {.mask = Tensor::ones({3, 3})}),
               {"gru", "mask (3, 3)"});
  const auto s = inputs(2, 3, 3, 4, 1, {4}, 0, 70);
  EXPECT_ERROR(tg::simple_rnn_sequence(Variable(s[0]), Variable(s[1]), Variable(s[2]), {}, {}, {.mask = Tensor::ones({2})}),
               {"simple_rnn", "mask (2,)"});
}
