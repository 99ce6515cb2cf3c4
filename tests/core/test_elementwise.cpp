// Elementwise ops: binary with NumPy broadcasting, scalar and unary ops, broadcast_to, axpy_,
// allclose. Every result is compared with a naive loop written here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "../error_matchers.h"
#include "../test_data.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/parallel.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor.h"
#include "tapegrad/core/tensor_ops.h"

namespace tg = tapegrad;
using tapegrad::testing::make;
using tapegrad::testing::unravel;

namespace {


// t's element that broadcasts to output index `idx` (dims aligned on the right; size-1 dims repeat).
float bcast_at(const tg::Tensor& t, const std::vector<int64_t>& idx) {
  const int r = t.rank(), R = static_cast<int>(idx.size());
  int64_t off = 0;
  for (int i = 0; i < r; ++i) {
    const int64_t d = t.shape()[i];
    off = off * d + (d == 1 ? 0 : idx[R - r + i]);
  }
  return t.data()[off];
}

// Checks got == ref(a', b') for every element, exactly (tol < 0) or within a relative tolerance.
void check_binary(const tg::Tensor& got, const tg::Tensor& a, const tg::Tensor& b, const tg::Shape& expect_shape,
                  const std::function<float(float, float)>& ref, double tol = -1.0) {
  ASSERT_EQ(got.shape(), expect_shape);
  int failures = 0;
  for (int64_t i = 0; i < got.numel() && failures < 10; ++i) {
    const auto idx = unravel(i, expect_shape);
    const float x = bcast_at(a, idx), y = bcast_at(b, idx);
    const float expect = ref(x, y);
    const float g = got.data()[i];
    if (tol < 0) {
      if (!(g == expect || (std::isnan(g) && std::isnan(expect)))) {
        ADD_FAILURE() << "element " << i << ": f(" << x << ", " << y << ") = " << g << ", expected " << expect;
        ++failures;
      }
    } else if (!(std::fabs(g - expect) <= tol * std::fabs(expect) + 1e-30)) {
      ADD_FAILURE() << "element " << i << ": f(" << x << ", " << y << ") = " << g << ", expected " << expect;
      ++failures;
    }
  }
}

struct BinaryCase {
  const char* name;
  tg::Tensor (*op)(const tg::Tensor&, const tg::Tensor&);
  std::function<float(float, float)> ref;
};

std::vector<BinaryCase> binary_cases() {
  return {
      {"add", static_cast<tg::Tensor (*)(const tg::Tensor&, const tg::Tensor&)>(&tg::add),
       [](float x, float y) { return x + y; }},
      {"sub", &tg::sub, [](float x, float y) { return x - y; }},
      {"mul", static_cast<tg::Tensor (*)(const tg::Tensor&, const tg::Tensor&)>(&tg::mul),
       [](float x, float y) { return x * y; }},
      {"div", &tg::div, [](float x, float y) { return x / y; }},
      {"maximum", &tg::maximum, [](float x, float y) { return x > y ? x : y; }},
      {"minimum", &tg::minimum, [](float x, float y) { return x < y ? x : y; }},
      {"greater", &tg::greater, [](float x, float y) { return x > y ? 1.0f : 0.0f; }},
      {"equal", &tg::equal, [](float x, float y) { return x == y ? 1.0f : 0.0f; }},
  };
}

// Runs every binary op on (a, b) and checks the result against the naive loop.
void check_all_binary(const tg::Tensor& a, const tg::Tensor& b, const tg::Shape& expect_shape) {
  for (const BinaryCase& c : binary_cases()) {
    SCOPED_TRACE(std::string(c.name) + " " + a.shape().str() + " with " + b.shape().str());
    check_binary(c.op(a, b), a, b, expect_shape, c.ref);
  }
  // pow on a positive base; std::pow is the reference (tolerance: libm vs libm, 1e-6 relative).
  tg::Tensor base = tg::abs(a) + 0.5f;
  SCOPED_TRACE("pow " + a.shape().str() + " with " + b.shape().str());
  check_binary(tg::pow(base, b), base, b, expect_shape, [](float x, float y) { return std::pow(x, y); }, 1e-6);
}

// Small integers, so that `equal` and ties in maximum/minimum actually occur; b is never 0.
tg::Tensor ints(const tg::Shape& s, uint32_t seed) { return make(s, seed, -3.0f, 4.0f, true); }
tg::Tensor nonzero_ints(const tg::Shape& s, uint32_t seed) {
  tg::Tensor t = ints(s, seed);
  for (int64_t i = 0; i < t.numel(); ++i)
    if (t.data()[i] == 0.0f) t.data()[i] = 2.0f;
  return t;
}

}  // namespace

TEST(Elementwise, HandComputedExamples) {
  tg::Tensor a = tg::Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6});
  tg::Tensor b = tg::Tensor::from({3}, {10, 20, 30});
  EXPECT_EQ(tg::add(a, b).to_vector(), (std::vector<float>{11, 22, 33, 14, 25, 36}));
  EXPECT_EQ(tg::sub(a, b).to_vector(), (std::vector<float>{-9, -18, -27, -6, -15, -24}));
  EXPECT_EQ(tg::mul(a, b).to_vector(), (std::vector<float>{10, 40, 90, 40, 100, 180}));
  EXPECT_EQ(tg::div(b, a).to_vector(), (std::vector<float>{10, 10, 10, 2.5f, 4, 5}));
  tg::Tensor col = tg::Tensor::from({2, 1}, {1, 2});
  tg::Tensor row = tg::Tensor::from({1, 3}, {0, 1, 2});
  EXPECT_EQ(tg::add(col, row).shape(), (tg::Shape{2, 3}));
  EXPECT_EQ(tg::add(col, row).to_vector(), (std::vector<float>{1, 2, 3, 2, 3, 4}));
  EXPECT_EQ(tg::pow(row, col).to_vector(), (std::vector<float>{0, 1, 2, 0, 1, 4}));
  EXPECT_EQ(tg::maximum(col, row).to_vector(), (std::vector<float>{1, 1, 2, 2, 2, 2}));
  EXPECT_EQ(tg::minimum(col, row).to_vector(), (std::vector<float>{0, 1, 1, 0, 1, 2}));
  EXPECT_EQ(tg::greater(col, row).to_vector(), (std::vector<float>{1, 0, 0, 1, 1, 0}));
  EXPECT_EQ(tg::equal(col, row).to_vector(), (std::vector<float>{0, 1, 0, 0, 0, 1}));
  // Operators.
  EXPECT_EQ((a + b).to_vector(), tg::add(a, b).to_vector());
  EXPECT_EQ((a - b).to_vector(), (std::vector<float>{-9, -18, -27, -6, -15, -24}));
  EXPECT_EQ((a * b).to_vector(), (std::vector<float>{10, 40, 90, 40, 100, 180}));
  EXPECT_EQ((b / a).to_vector(), (std::vector<float>{10, 10, 10, 2.5f, 4, 5}));
  EXPECT_EQ((-a).to_vector(), (std::vector<float>{-1, -2, -3, -4, -5, -6}));
  EXPECT_EQ((a + 1.5f).to_vector(), (std::vector<float>{2.5f, 3.5f, 4.5f, 5.5f, 6.5f, 7.5f}));
  EXPECT_EQ((a * 2.0f).to_vector(), (std::vector<float>{2, 4, 6, 8, 10, 12}));
  EXPECT_EQ((0.5f * a).to_vector(), (std::vector<float>{0.5f, 1, 1.5f, 2, 2.5f, 3}));
}

TEST(Elementwise, InputsAreNotModified) {
  tg::Tensor a = tg::Tensor::from({3}, {1, 2, 3});
  tg::Tensor b = tg::Tensor::from({3}, {4, 5, 6});
  tg::Tensor c = tg::add(a, b);
  EXPECT_FALSE(c.shares_storage(a));
  EXPECT_FALSE(c.shares_storage(b));
  EXPECT_EQ(a.to_vector(), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(b.to_vector(), (std::vector<float>{4, 5, 6}));
  tg::Tensor p = tg::pow(a, 1.0f);
  EXPECT_FALSE(p.shares_storage(a));
  EXPECT_EQ(p.to_vector(), a.to_vector());
}

TEST(Elementwise, SameShape) {
  for (const tg::Shape& s : {tg::Shape{7}, tg::Shape{2, 3}, tg::Shape{3, 4, 5}, tg::Shape{}, tg::Shape{2, 1, 3, 1, 2}}) {
    check_all_binary(ints(s, 1), nonzero_ints(s, 2), s);
  }
}

TEST(Elementwise, BroadcastRowVector) { check_all_binary(ints({2, 3}, 3), nonzero_ints({3}, 4), tg::Shape{2, 3}); }

TEST(Elementwise, BroadcastRowVectorOnLeft) {
  check_all_binary(ints({3}, 5), nonzero_ints({2, 3}, 6), tg::Shape{2, 3});
}

TEST(Elementwise, BroadcastColumnTimesRow) {
  check_all_binary(ints({2, 1}, 7), nonzero_ints({1, 3}, 8), tg::Shape{2, 3});
  check_all_binary(ints({1, 3}, 9), nonzero_ints({2, 1}, 10), tg::Shape{2, 3});
}

TEST(Elementwise, BroadcastRankPaddingMiddleDim) {
  check_all_binary(ints({4, 1, 3}, 11), nonzero_ints({2, 1}, 12), tg::Shape{4, 2, 3});
  check_all_binary(ints({2, 1}, 13), nonzero_ints({4, 1, 3}, 14), tg::Shape{4, 2, 3});
}

TEST(Elementwise, BroadcastScalar) {
  check_all_binary(ints({}, 15), nonzero_ints({2, 3}, 16), tg::Shape{2, 3});
  check_all_binary(ints({2, 3}, 17), tg::Tensor::scalar(2.0f), tg::Shape{2, 3});
  check_all_binary(tg::Tensor::scalar(-1.0f), tg::Tensor::scalar(3.0f), tg::Shape{});
}

TEST(Elementwise, BroadcastManyPatterns) {
  check_all_binary(ints({3, 1, 5, 1}, 18), nonzero_ints({4, 1, 6}, 19), tg::Shape{3, 4, 5, 6});
  check_all_binary(ints({1, 1, 5}, 20), nonzero_ints({3, 4, 1}, 21), tg::Shape{3, 4, 5});
  check_all_binary(ints({2, 3, 4}, 22), nonzero_ints({2, 1, 4}, 23), tg::Shape{2, 3, 4});
  check_all_binary(ints({2, 3, 4}, 24), nonzero_ints({1, 3, 1}, 25), tg::Shape{2, 3, 4});
  check_all_binary(ints({1}, 26), nonzero_ints({5}, 27), tg::Shape{5});
  check_all_binary(ints({6, 1, 1}, 28), nonzero_ints({1, 1}, 29), tg::Shape{6, 1, 1});
  check_all_binary(ints({2, 1, 3}, 30), nonzero_ints({1, 3}, 31), tg::Shape{2, 1, 3});
}

TEST(Elementwise, BroadcastEmpty) {
  tg::Tensor r = tg::add(tg::Tensor::zeros({0, 3}), tg::Tensor::ones({3}));
  EXPECT_EQ(r.shape(), (tg::Shape{0, 3}));
  EXPECT_EQ(tg::mul(tg::Tensor::zeros({2, 0}), tg::Tensor::ones({2, 1})).shape(), (tg::Shape{2, 0}));
}

TEST(Elementwise, FloatValuesExact) {
  // Non-integer data: add/sub/mul/div are single IEEE operations, so results are exact.
  tg::Tensor a = make({5, 1, 7}, 40, -10.0f, 10.0f);
  tg::Tensor b = make({3, 1}, 41, 0.1f, 5.0f);
  check_all_binary(a, b, tg::Shape{5, 3, 7});
}

TEST(Elementwise, BroadcastErrorNamesBothShapes) {
  tg::Tensor a = tg::Tensor::zeros({2, 3});
  tg::Tensor b = tg::Tensor::zeros({4});
  EXPECT_TG_ERROR(tg::add(a, b), "add", "(2, 3)", "(4,)");
  EXPECT_TG_ERROR(tg::sub(a, b), "sub", "(2, 3)", "(4,)");
  EXPECT_TG_ERROR(tg::mul(b, a), "mul", "(4,)", "(2, 3)");
  EXPECT_TG_ERROR(tg::div(a, b), "div", "(2, 3)", "(4,)");
  EXPECT_TG_ERROR(tg::pow(a, b), "pow", "(2, 3)", "(4,)");
  EXPECT_TG_ERROR(tg::maximum(a, b), "maximum", "(2, 3)", "(4,)");
  EXPECT_TG_ERROR(tg::minimum(a, b), "minimum", "(2, 3)", "(4,)");
  EXPECT_TG_ERROR(tg::greater(a, b), "greater", "(2, 3)", "(4,)");
  EXPECT_TG_ERROR(tg::equal(a, b), "equal", "(2, 3)", "(4,)");
  EXPECT_TG_ERROR(tg::add(tg::Tensor::zeros({2, 3, 4}), tg::Tensor::zeros({3, 3})), "add", "(2, 3, 4)", "(3, 3)");
  EXPECT_TG_ERROR(a + b, "add", "(2, 3)", "(4,)");
}

TEST(Elementwise, UndefinedInputThrows) {
  EXPECT_TG_ERROR(tg::add(tg::Tensor(), tg::Tensor::ones({2})), "add", "undefined");
  EXPECT_TG_ERROR(tg::exp(tg::Tensor()), "exp", "undefined");
}

TEST(Elementwise, ScalarOps) {
  tg::Tensor a = make({37}, 50, 0.1f, 4.0f);
  tg::Tensor ad = tg::add(a, -1.25f), mu = tg::mul(a, 3.5f);
  for (int64_t i = 0; i < a.numel(); ++i) {
    const float x = a.data()[i];
    EXPECT_EQ(ad.data()[i], x + -1.25f) << i;
    EXPECT_EQ(mu.data()[i], x * 3.5f) << i;
  }
  for (float e : {2.0f, 1.0f, 0.5f, 3.0f, -1.0f, 0.0f, 1.7f}) {
    tg::Tensor p = tg::pow(a, e);
    ASSERT_EQ(p.shape(), a.shape());
    for (int64_t i = 0; i < a.numel(); ++i) {
      const double expect = std::pow(static_cast<double>(a.data()[i]), static_cast<double>(e));
      EXPECT_NEAR(p.data()[i], expect, 2e-6 * std::fabs(expect)) << "pow(" << a.data()[i] << ", " << e << ")";
    }
  }
}

namespace {

// Values spanning signs and magnitudes; 41 of them so both vectorised blocks and tails are used.
std::vector<float> mixed_values() {
  return {-100.0f, -88.0f, -50.0f, -20.0f, -15.0f, -9.5f, -9.0f, -5.0f, -3.0f, -2.0f, -1.0f, -0.75f, -0.5f, -0.1f,
          -1e-3f,  -1e-7f, -0.0f,  0.0f,   1e-7f,  1e-3f, 0.1f,  0.5f,  0.75f, 1.0f,  2.0f,  3.0f,   5.0f,  9.0f,
          9.5f,    15.0f,  20.0f,  50.0f,  88.0f,  100.0f, 0.3f, -0.3f, 7.25f, -7.25f, 1.5f, -1.5f, 42.0f};
}

void check_unary(const tg::Tensor& got, const std::vector<float>& in, const std::function<double(double)>& ref,
                 double rtol, double atol, const char* name) {
  ASSERT_EQ(got.numel(), static_cast<int64_t>(in.size())) << name;
  for (size_t i = 0; i < in.size(); ++i) {
    const double expect = ref(in[i]);
    const float g = got.data()[i];
    if (std::isinf(expect)) {
      EXPECT_EQ(g, expect) << name << "(" << in[i] << ")";
    } else {
      EXPECT_TRUE(std::isfinite(g)) << name << "(" << in[i] << ") = " << g;
      EXPECT_NEAR(g, expect, atol + rtol * std::fabs(expect)) << name << "(" << in[i] << ")";
    }
  }
}

}  // namespace

TEST(Elementwise, UnaryExact) {
  const std::vector<float> v = mixed_values();
  tg::Tensor t = tg::Tensor::from({static_cast<int64_t>(v.size())}, v);
  check_unary(tg::neg(t), v, [](double x) { return -x; }, 0, 0, "neg");
  check_unary(tg::abs(t), v, [](double x) { return std::fabs(x); }, 0, 0, "abs");
  check_unary(tg::sign(t), v, [](double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0; }, 0, 0, "sign");
  check_unary(tg::relu(t), v, [](double x) { return x > 0 ? x : 0.0; }, 0, 0, "relu");
  check_unary(tg::clip(t, -2.0f, 3.0f), v, [](double x) { return std::min(3.0, std::max(-2.0, x)); }, 0, 0, "clip");
  check_unary(tg::clip(t, 0.5f, 0.5f), v, [](double) { return 0.5; }, 0, 0, "clip to a point");
}

TEST(Elementwise, UnaryTranscendental) {
  const std::vector<float> v = mixed_values();
  tg::Tensor t = tg::Tensor::from({static_cast<int64_t>(v.size())}, v);
  // float results vs double references: a few float ulps of relative error.
  check_unary(tg::tanh(t), v, [](double x) { return std::tanh(x); }, 4e-6, 1e-7, "tanh");
  check_unary(tg::sigmoid(t), v, [](double x) { return 1.0 / (1.0 + std::exp(-x)); }, 4e-6, 1e-7, "sigmoid");
  // exp: keep inside float's range (|x| <= 80).
  std::vector<float> e;
  for (float x : v)
    if (std::fabs(x) <= 80.0f) e.push_back(x);
  tg::Tensor te = tg::Tensor::from({static_cast<int64_t>(e.size())}, e);
  check_unary(tg::exp(te), e, [](double x) { return std::exp(x); }, 4e-6, 0, "exp");
  // log and sqrt on positives, tiny to huge.
  const std::vector<float> pos = {1e-30f, 1e-10f, 1e-5f, 0.01f, 0.25f, 0.5f, 0.9f, 1.0f, 1.1f, 2.0f,
                                  2.718281828f, 10.0f, 123.456f, 1e5f, 1e10f, 1e30f, 3e38f};
  tg::Tensor tp = tg::Tensor::from({static_cast<int64_t>(pos.size())}, pos);
  check_unary(tg::log(tp), pos, [](double x) { return std::log(x); }, 4e-6, 1e-7, "log");
  check_unary(tg::sqrt(tp), pos, [](double x) { return std::sqrt(x); }, 4e-6, 0, "sqrt");
}

TEST(Elementwise, UnaryEdgeValues) {
  tg::Tensor s = tg::sigmoid(tg::Tensor::from({2}, {100.0f, -100.0f}));
  EXPECT_TRUE(std::isfinite(s.data()[0]));
  EXPECT_TRUE(std::isfinite(s.data()[1]));
  EXPECT_NEAR(s.data()[0], 1.0f, 1e-7f);
  EXPECT_GE(s.data()[1], 0.0f);
  EXPECT_LT(s.data()[1], 1e-30f);
  tg::Tensor th = tg::tanh(tg::Tensor::from({2}, {100.0f, -100.0f}));
  EXPECT_EQ(th.data()[0], 1.0f);
  EXPECT_EQ(th.data()[1], -1.0f);
  EXPECT_EQ(tg::sigmoid(tg::Tensor::scalar(0.0f)).item(), 0.5f);
  EXPECT_EQ(tg::exp(tg::Tensor::scalar(0.0f)).item(), 1.0f);
  EXPECT_EQ(tg::log(tg::Tensor::scalar(1.0f)).item(), 0.0f);
  EXPECT_EQ(tg::log(tg::Tensor::scalar(0.0f)).item(), -std::numeric_limits<float>::infinity());
  EXPECT_EQ(tg::sqrt(tg::Tensor::scalar(0.0f)).item(), 0.0f);
  EXPECT_EQ(tg::sqrt(tg::Tensor::scalar(16.0f)).item(), 4.0f);
  EXPECT_TRUE(std::isnan(tg::sqrt(tg::Tensor::scalar(-1.0f)).item()));
}

TEST(Elementwise, UnaryKeepsShape) {
  tg::Tensor t = make({2, 3, 4}, 60, -2.0f, 2.0f);
  for (auto* f : {&tg::neg, &tg::exp, &tg::abs, &tg::sign, &tg::relu, &tg::sigmoid, &tg::tanh})
    EXPECT_EQ(f(t).shape(), (tg::Shape{2, 3, 4}));
  EXPECT_EQ(tg::clip(t, -1, 1).shape(), (tg::Shape{2, 3, 4}));
  EXPECT_EQ(tg::exp(tg::Tensor::zeros({0, 4})).shape(), (tg::Shape{0, 4}));
}

TEST(Elementwise, ClipLowAboveHighThrows) {
  tg::Tensor t = tg::Tensor::ones({3});
  EXPECT_TG_ERROR(tg::clip(t, 2.0f, 1.0f), "clip", "low", "high", "2.0", "1.0");
  EXPECT_TG_ERROR(tg::clip(t, NAN, 1.0f), "clip", "low", "high");
}

TEST(Elementwise, BroadcastTo) {
  struct Case {
    tg::Shape from, to;
  };
  for (const Case& c : {Case{{3}, {2, 3}}, Case{{2, 1}, {2, 4}}, Case{{}, {2, 2}}, Case{{1, 3}, {4, 2, 3}},
                        Case{{2, 3}, {2, 3}}, Case{{3, 1, 2}, {2, 3, 5, 2}}, Case{{1}, {7}}}) {
    SCOPED_TRACE(c.from.str() + " -> " + c.to.str());
    tg::Tensor a = make(c.from, 70, -5.0f, 5.0f);
    tg::Tensor r = tg::broadcast_to(a, c.to);
    ASSERT_EQ(r.shape(), c.to);
    EXPECT_FALSE(r.shares_storage(a));
    for (int64_t i = 0; i < r.numel(); ++i) EXPECT_EQ(r.data()[i], bcast_at(a, unravel(i, c.to))) << i;
  }
}

TEST(Elementwise, BroadcastToErrors) {
  EXPECT_TG_ERROR(tg::broadcast_to(tg::Tensor::zeros({3}), {2, 4}), "broadcast_to", "(3,)", "(2, 4)");
  EXPECT_TG_ERROR(tg::broadcast_to(tg::Tensor::zeros({2, 3}), {3}), "broadcast_to", "(2, 3)", "(3,)");
  EXPECT_TG_ERROR(tg::broadcast_to(tg::Tensor::zeros({2, 1}), {1, 3}), "broadcast_to", "(2, 1)", "(1, 3)");
}

TEST(Elementwise, Axpy) {
  tg::Tensor a = make({4, 5}, 80, -3.0f, 3.0f);
  const tg::Tensor a0 = a.clone();
  tg::Tensor b = make({4, 5}, 81, -3.0f, 3.0f);
  tg::Tensor view = a.reshape({20});
  tg::axpy_(a, b);  // alpha = 1: a single IEEE addition
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_EQ(a.data()[i], a0.data()[i] + b.data()[i]) << i;
  EXPECT_EQ(view.data(), a.data());  // in place: same storage
  const tg::Tensor a1 = a.clone();
  tg::axpy_(a, b, -0.5f);
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double expect = static_cast<double>(a1.data()[i]) - 0.5 * b.data()[i];
    EXPECT_NEAR(a.data()[i], expect, 1e-6 * (std::fabs(a1.data()[i]) + std::fabs(b.data()[i]))) << i;
  }
  const tg::Tensor a2 = a.clone();
  tg::axpy_(a, b, 0.0f);
  EXPECT_EQ(a.to_vector(), a2.to_vector());
  EXPECT_EQ(b.to_vector(), make({4, 5}, 81, -3.0f, 3.0f).to_vector());  // b unchanged
}

TEST(Elementwise, AxpyShapeMismatch) {
  tg::Tensor a = tg::Tensor::zeros({2, 3});
  EXPECT_TG_ERROR(tg::axpy_(a, tg::Tensor::zeros({3, 2})), "axpy_", "(2, 3)", "(3, 2)");
  EXPECT_TG_ERROR(tg::axpy_(a, tg::Tensor::zeros({3})), "axpy_", "(2, 3)", "(3,)");
}

TEST(Elementwise, LargeParallel) {
  // 300000 elements: many parallel tasks. Checked against naive loops, with 2 threads.
  const int saved = tg::num_threads();
  tg::set_num_threads(2);
  tg::Tensor a = make({1000, 300}, 90, -4.0f, 4.0f);
  tg::Tensor row = make({300}, 91, -4.0f, 4.0f);
  tg::Tensor col = make({1000, 1}, 92, 0.5f, 4.0f);
  tg::Tensor s = tg::add(a, row);
  ASSERT_EQ(s.shape(), (tg::Shape{1000, 300}));
  tg::Tensor m = tg::mul(a, col);
  tg::Tensor d = tg::div(row, col);  // (300,) / (1000, 1) -> (1000, 300)
  ASSERT_EQ(d.shape(), (tg::Shape{1000, 300}));
  int bad = 0;
  for (int64_t i = 0; i < 1000 && bad < 10; ++i)
    for (int64_t j = 0; j < 300 && bad < 10; ++j) {
      const float x = a.data()[i * 300 + j];
      if (s.data()[i * 300 + j] != x + row.data()[j]) { ++bad; ADD_FAILURE() << "add at " << i << "," << j; }
      if (m.data()[i * 300 + j] != x * col.data()[i]) { ++bad; ADD_FAILURE() << "mul at " << i << "," << j; }
      if (d.data()[i * 300 + j] != row.data()[j] / col.data()[i]) { ++bad; ADD_FAILURE() << "div at " << i << "," << j; }
    }
  // Both inputs broadcast: (600, 1) - (1, 500).
  tg::Tensor p = make({600, 1}, 93, -1.0f, 1.0f), q = make({1, 500}, 94, -1.0f, 1.0f);
  tg::Tensor o = tg::sub(p, q);
  for (int64_t i = 0; i < 600 && bad < 10; ++i)
    for (int64_t j = 0; j < 500 && bad < 10; ++j)
      if (o.data()[i * 500 + j] != p.data()[i] - q.data()[j]) { ++bad; ADD_FAILURE() << "sub at " << i << "," << j; }
  // Unary, scalar and axpy over 300000 elements.
  tg::Tensor r = tg::relu(a), sc = tg::mul(a, 0.25f), ab = tg::abs(a);
  tg::Tensor acc = a.clone();
  tg::axpy_(acc, s);
  for (int64_t i = 0; i < a.numel() && bad < 10; ++i) {
    const float x = a.data()[i];
    if (r.data()[i] != (x > 0 ? x : 0.0f)) { ++bad; ADD_FAILURE() << "relu at " << i; }
    if (sc.data()[i] != x * 0.25f) { ++bad; ADD_FAILURE() << "mul scalar at " << i; }
    if (ab.data()[i] != std::fabs(x)) { ++bad; ADD_FAILURE() << "abs at " << i; }
    if (acc.data()[i] != x + s.data()[i]) { ++bad; ADD_FAILURE() << "axpy at " << i; }
  }
  tg::Tensor big = tg::broadcast_to(row, {1000, 300});
  for (int64_t i = 0; i < big.numel() && bad < 10; ++i)
    if (big.data()[i] != row.data()[i % 300]) { ++bad; ADD_FAILURE() << "broadcast_to at " << i; }
  tg::set_num_threads(saved);
}

TEST(Elementwise, RandomBroadcastShapes) {
  // Random pairs of broadcast-compatible shapes (rank 0-6, dims 1-3), every op vs the naive loop.
  uint32_t x = 12345;
  auto next = [&](uint32_t n) {
    x = x * 1664525u + 1013904223u;
    return (x >> 8) % n;
  };
  for (int trial = 0; trial < 150; ++trial) {
    const int rank = static_cast<int>(next(7));
    std::vector<int64_t> out(rank), da, db;
    for (int i = 0; i < rank; ++i) out[i] = 1 + next(3);
    // Each input: drop some leading dims, and set some dims to 1.
    const int ra = rank - static_cast<int>(next(rank + 1)), rb = rank - static_cast<int>(next(rank + 1));
    for (int i = rank - ra; i < rank; ++i) da.push_back(next(3) == 0 ? 1 : out[i]);
    for (int i = rank - rb; i < rank; ++i) db.push_back(next(3) == 0 ? 1 : out[i]);
    const tg::Shape sa(da), sb(db);
    // The expected output shape, by the rule: the larger of the two where both are present.
    // The output has rank max(ra, rb).
    std::vector<int64_t> expect;
    for (int i = rank - std::max(ra, rb); i < rank; ++i) {
      const int ia = i - (rank - ra), ib = i - (rank - rb);
      const int64_t a_dim = ia >= 0 ? da[ia] : 1, b_dim = ib >= 0 ? db[ib] : 1;
      expect.push_back(std::max(a_dim, b_dim));
    }
    SCOPED_TRACE("trial " + std::to_string(trial));
    check_all_binary(ints(sa, 100 + trial), nonzero_ints(sb, 200 + trial), tg::Shape(expect));
  }
}

TEST(Elementwise, LargeBroadcastMiddleDims) {
  // (100, 1, 70) + (1, 40, 1): 280000 elements, both inputs broadcast, parallel rows.
  tg::Tensor a = make({100, 1, 70}, 95, -1.0f, 1.0f), b = make({1, 40, 1}, 96, -1.0f, 1.0f);
  tg::Tensor c = tg::add(a, b);
  ASSERT_EQ(c.shape(), (tg::Shape{100, 40, 70}));
  int bad = 0;
  for (int64_t i = 0; i < 100 && bad < 10; ++i)
    for (int64_t j = 0; j < 40 && bad < 10; ++j)
      for (int64_t k = 0; k < 70 && bad < 10; ++k)
        if (c.data()[(i * 40 + j) * 70 + k] != a.data()[i * 70 + k] + b.data()[j]) {
          ++bad;
          ADD_FAILURE() << "at " << i << "," << j << "," << k;
        }
}

TEST(Elementwise, AllClose) {
  tg::Tensor a = tg::Tensor::from({3}, {1.0f, 2.0f, 3.0f});
  EXPECT_TRUE(tg::allclose(a, a));
  EXPECT_TRUE(tg::allclose(a, tg::Tensor::from({3}, {1.0f, 2.0f, 3.00001f})));
  EXPECT_FALSE(tg::allclose(a, tg::Tensor::from({3}, {1.0f, 2.0f, 3.001f})));
  EXPECT_FALSE(tg::allclose(a, a.reshape({3, 1})));  // same values, different shape
  EXPECT_FALSE(tg::allclose(a, tg::Tensor::from({1, 3}, {1.0f, 2.0f, 3.0f})));
  // |a - b| <= atol + rtol * |b|
  tg::Tensor x = tg::Tensor::scalar(100.0f), y = tg::Tensor::scalar(100.05f);
  EXPECT_TRUE(tg::allclose(x, y, 1e-3f, 0.0f));
  EXPECT_FALSE(tg::allclose(x, y, 1e-4f, 0.0f));
  EXPECT_TRUE(tg::allclose(x, y, 0.0f, 0.06f));
  EXPECT_FALSE(tg::allclose(x, y, 0.0f, 0.04f));
  tg::Tensor z = tg::Tensor::scalar(0.0f);
  EXPECT_TRUE(tg::allclose(z, tg::Tensor::scalar(1e-9f)));  // default atol 1e-8
  EXPECT_FALSE(tg::allclose(z, tg::Tensor::scalar(1e-7f)));
  // NaN is never close, not even to NaN.
  tg::Tensor n = tg::Tensor::scalar(NAN);
  EXPECT_FALSE(tg::allclose(n, n));
  EXPECT_FALSE(tg::allclose(z, n));
  EXPECT_TRUE(tg::allclose(tg::Tensor::zeros({0}), tg::Tensor::zeros({0})));
}

TEST(Elementwise, AllCloseInfinities) {
  // As numpy.allclose: infinities are close only to an infinity of the same sign.
  const float inf = std::numeric_limits<float>::infinity();
  tg::Tensor pinf = tg::Tensor::scalar(inf), minf = tg::Tensor::scalar(-inf), one = tg::Tensor::scalar(1.0f);
  EXPECT_TRUE(tg::allclose(pinf, pinf));
  EXPECT_TRUE(tg::allclose(minf, minf));
  EXPECT_FALSE(tg::allclose(pinf, one));
  EXPECT_FALSE(tg::allclose(one, pinf));
  EXPECT_FALSE(tg::allclose(pinf, minf));
  EXPECT_FALSE(tg::allclose(minf, pinf));
}
