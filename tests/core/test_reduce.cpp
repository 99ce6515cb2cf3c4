// Reductions: sum/mean/max over axes (keepdims on/off), argmax, sum_to, sum_all, squared_norm.
// Every result is compared with a naive loop written here (double accumulation).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "../error_matchers.h"
#include "../test_data.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/parallel.h"
#include "tapegrad/core/tensor.h"
#include "tapegrad/core/tensor_ops.h"

namespace tg = tapegrad;
using tapegrad::testing::make;
using tapegrad::testing::unravel;

namespace {


enum class Op { kSum, kMean, kMax };

struct NaiveResult {
  tg::Shape shape;
  std::vector<double> values;
};

// Reduces `a` over `axes` (already non-negative, any order) with a plain loop over every element.
NaiveResult naive_reduce(const tg::Tensor& a, const std::vector<int>& axes_in, bool keepdims, Op op) {
  std::vector<bool> reduced(a.rank(), axes_in.empty());
  for (int ax : axes_in) reduced[ax] = true;
  tg::Shape kept;  // keepdims shape
  for (int i = 0; i < a.rank(); ++i) kept.push_back(reduced[i] ? 1 : a.shape()[i]);
  NaiveResult r;
  for (int i = 0; i < a.rank(); ++i)
    if (keepdims || !reduced[i]) r.shape.push_back(kept[i]);
  const int64_t n_out = kept.numel();
  r.values.assign(n_out, op == Op::kMax ? -std::numeric_limits<double>::infinity() : 0.0);
  std::vector<int64_t> count(n_out, 0);
  for (int64_t f = 0; f < a.numel(); ++f) {
    const auto idx = unravel(f, a.shape());
    int64_t o = 0;
    for (int i = 0; i < a.rank(); ++i) o = o * kept[i] + (reduced[i] ? 0 : idx[i]);
    const double v = a.data()[f];
    if (op == Op::kMax)
      r.values[o] = std::max(r.values[o], v);
    else
      r.values[o] += v;
    ++count[o];
  }
  if (op == Op::kMean)
    for (int64_t o = 0; o < n_out; ++o) r.values[o] /= static_cast<double>(count[o]);
  return r;
}

void expect_matches(const tg::Tensor& got, const NaiveResult& expect, double atol, double rtol) {
  ASSERT_EQ(got.shape(), expect.shape);
  int bad = 0;
  for (int64_t i = 0; i < got.numel() && bad < 10; ++i) {
    const double e = expect.values[i];
    if (!(std::fabs(got.data()[i] - e) <= atol + rtol * std::fabs(e))) {
      ++bad;
      ADD_FAILURE() << "element " << i << ": got " << got.data()[i] << ", expected " << e;
    }
  }
}

// All subsets of {0, ..., rank-1}, as lists of axes.
std::vector<std::vector<int>> subsets(int rank) {
  std::vector<std::vector<int>> out;
  for (int mask = 0; mask < (1 << rank); ++mask) {
    std::vector<int> s;
    for (int i = 0; i < rank; ++i)
      if (mask & (1 << i)) s.push_back(i);
    out.push_back(s);
  }
  return out;
}

std::string axes_str(const std::vector<int>& axes) {
  std::string s = "{";
  for (int a : axes) s += std::to_string(a) + ",";
  return s + "}";
}

NaiveResult naive_argmax(const tg::Tensor& a, int axis);  // below

}  // namespace

TEST(Reduce, HandComputed) {
  // [[1, 2, 3], [4, 5, 6]]
  tg::Tensor a = tg::Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(tg::sum(a, {0}).to_vector(), (std::vector<float>{5, 7, 9}));
  EXPECT_EQ(tg::sum(a, {1}).to_vector(), (std::vector<float>{6, 15}));
  EXPECT_EQ(tg::sum(a).item(), 21.0f);
  EXPECT_EQ(tg::sum(a).shape(), tg::Shape{});
  EXPECT_EQ(tg::mean(a, {0}).to_vector(), (std::vector<float>{2.5f, 3.5f, 4.5f}));
  EXPECT_EQ(tg::mean(a, {1}).to_vector(), (std::vector<float>{2, 5}));
  EXPECT_EQ(tg::mean(a).item(), 3.5f);
  EXPECT_EQ(tg::max(a, {0}).to_vector(), (std::vector<float>{4, 5, 6}));
  EXPECT_EQ(tg::max(a, {1}).to_vector(), (std::vector<float>{3, 6}));
  EXPECT_EQ(tg::max(tg::neg(a)).item(), -1.0f);
  EXPECT_EQ(tg::sum(a, {1}, true).shape(), (tg::Shape{2, 1}));
  EXPECT_EQ(tg::sum(a, {0}, true).shape(), (tg::Shape{1, 3}));
  EXPECT_EQ(tg::sum(a, {}, true).shape(), (tg::Shape{1, 1}));
  EXPECT_EQ(tg::sum(a, {-1}).to_vector(), (std::vector<float>{6, 15}));
  EXPECT_EQ(tg::sum(a, {0, 1}).item(), 21.0f);
  // The input is untouched.
  EXPECT_EQ(a.to_vector(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(Reduce, Rank3EveryAxisSetVsNaive) {
  const tg::Tensor a = make({2, 3, 4}, 1, -5.0f, 5.0f);
  for (const auto& axes : subsets(3)) {
    for (bool keepdims : {false, true}) {
      SCOPED_TRACE("axes " + axes_str(axes) + (keepdims ? " keepdims" : ""));
      expect_matches(tg::sum(a, axes, keepdims), naive_reduce(a, axes, keepdims, Op::kSum), 1e-5, 1e-6);
      expect_matches(tg::mean(a, axes, keepdims), naive_reduce(a, axes, keepdims, Op::kMean), 1e-6, 1e-6);
      expect_matches(tg::max(a, axes, keepdims), naive_reduce(a, axes, keepdims, Op::kMax), 0, 0);
    }
  }
}

TEST(Reduce, RandomShapesAndAxes) {
  uint32_t x = 4242;
  auto next = [&](uint32_t n) {
    x = x * 1664525u + 1013904223u;
    return (x >> 8) % n;
  };
  for (int trial = 0; trial < 80; ++trial) {
    const int rank = 1 + static_cast<int>(next(5));
    std::vector<int64_t> dims(rank);
    for (auto& d : dims) d = 1 + next(5);
    const tg::Tensor a = make(tg::Shape(dims), 300 + trial, -5.0f, 5.0f);
    std::vector<int> axes, given;
    for (int i = 0; i < rank; ++i)
      if (next(2)) {
        axes.push_back(i);
        given.push_back(next(2) ? i - rank : i);  // some as negative axes
      }
    std::reverse(given.begin(), given.end());  // and in descending order
    const bool keepdims = next(2);
    SCOPED_TRACE("trial " + std::to_string(trial) + " shape " + a.shape().str() + " axes " + axes_str(given));
    expect_matches(tg::sum(a, given, keepdims), naive_reduce(a, axes, keepdims, Op::kSum), 1e-4, 1e-6);
    expect_matches(tg::mean(a, given, keepdims), naive_reduce(a, axes, keepdims, Op::kMean), 1e-5, 1e-6);
    expect_matches(tg::max(a, given, keepdims), naive_reduce(a, axes, keepdims, Op::kMax), 0, 0);
    const int ax = static_cast<int>(next(rank));
    expect_matches(tg::argmax(a, ax), naive_argmax(a, ax), 0, 0);
  }
}

TEST(Reduce, NegativeAndUnorderedAxes) {
  const tg::Tensor a = make({2, 3, 4}, 2, -5.0f, 5.0f);
  for (bool keepdims : {false, true}) {
    expect_matches(tg::sum(a, {-1}, keepdims), naive_reduce(a, {2}, keepdims, Op::kSum), 1e-5, 1e-6);
    expect_matches(tg::sum(a, {-3}, keepdims), naive_reduce(a, {0}, keepdims, Op::kSum), 1e-5, 1e-6);
    expect_matches(tg::max(a, {-2}, keepdims), naive_reduce(a, {1}, keepdims, Op::kMax), 0, 0);
    expect_matches(tg::sum(a, {2, 0}, keepdims), naive_reduce(a, {0, 2}, keepdims, Op::kSum), 1e-5, 1e-6);
    expect_matches(tg::mean(a, {-1, 0}, keepdims), naive_reduce(a, {0, 2}, keepdims, Op::kMean), 1e-6, 1e-6);
    expect_matches(tg::max(a, {-1, -2, -3}, keepdims), naive_reduce(a, {0, 1, 2}, keepdims, Op::kMax), 0, 0);
  }
  // Expected shapes, by hand.
  EXPECT_EQ(tg::sum(a, {0, 2}).shape(), tg::Shape{3});
  EXPECT_EQ(tg::sum(a, {0, 2}, true).shape(), (tg::Shape{1, 3, 1}));
  EXPECT_EQ(tg::mean(a, {1}).shape(), (tg::Shape{2, 4}));
  EXPECT_EQ(tg::max(a, {-1}, true).shape(), (tg::Shape{2, 3, 1}));
  EXPECT_EQ(tg::sum(a, {0, 1, 2}).shape(), tg::Shape{});
  EXPECT_EQ(tg::sum(a, {}, true).shape(), (tg::Shape{1, 1, 1}));
}

TEST(Reduce, Rank4AndSizeOneDims) {
  const tg::Tensor a = make({3, 1, 5, 2}, 3, -5.0f, 5.0f);
  for (const auto& axes : subsets(4)) {
    SCOPED_TRACE("axes " + axes_str(axes));
    expect_matches(tg::sum(a, axes), naive_reduce(a, axes, false, Op::kSum), 1e-5, 1e-6);
    expect_matches(tg::max(a, axes, true), naive_reduce(a, axes, true, Op::kMax), 0, 0);
  }
}

TEST(Reduce, MaxOfNegatives) {
  // The max must not be seeded with 0.
  tg::Tensor a = tg::Tensor::from({2, 2}, {-5, -3, -7, -9});
  EXPECT_EQ(tg::max(a, {0}).to_vector(), (std::vector<float>{-5, -3}));
  EXPECT_EQ(tg::max(a, {1}).to_vector(), (std::vector<float>{-3, -7}));
  EXPECT_EQ(tg::max(a).item(), -3.0f);
}

TEST(Reduce, ScalarInput) {
  tg::Tensor s = tg::Tensor::scalar(2.5f);
  EXPECT_EQ(tg::sum(s).item(), 2.5f);
  EXPECT_EQ(tg::sum(s).shape(), tg::Shape{});
  EXPECT_EQ(tg::mean(s).item(), 2.5f);
  EXPECT_EQ(tg::max(s).item(), 2.5f);
  EXPECT_FALSE(tg::sum(s).shares_storage(s));
}

TEST(Reduce, SumOverEmptyAxisIsZero) {
  tg::Tensor e = tg::Tensor::zeros({0, 3});
  tg::Tensor s = tg::sum(e, {0});
  EXPECT_EQ(s.shape(), tg::Shape{3});
  EXPECT_EQ(s.to_vector(), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(tg::sum(e).item(), 0.0f);
  EXPECT_EQ(tg::sum(e, {1}).shape(), tg::Shape{0});
}

TEST(Reduce, LargeAxis0) {
  const int saved = tg::num_threads();
  tg::set_num_threads(2);
  const tg::Tensor a = make({5000, 300}, 4, -1.0f, 1.0f);
  std::vector<double> s(300, 0.0), m(300, -1e30);
  for (int64_t i = 0; i < 5000; ++i)
    for (int64_t j = 0; j < 300; ++j) {
      s[j] += a.data()[i * 300 + j];
      m[j] = std::max<double>(m[j], a.data()[i * 300 + j]);
    }
  tg::Tensor gs = tg::sum(a, {0}), gm = tg::mean(a, {0}), gx = tg::max(a, {0});
  ASSERT_EQ(gs.shape(), tg::Shape{300});
  ASSERT_EQ(gm.shape(), tg::Shape{300});
  ASSERT_EQ(gx.shape(), tg::Shape{300});
  for (int j = 0; j < 300; ++j) {
    EXPECT_NEAR(gs.data()[j], s[j], 2e-3) << j;
    EXPECT_NEAR(gm.data()[j], s[j] / 5000.0, 1e-6) << j;
    EXPECT_EQ(gx.data()[j], m[j]) << j;
  }
  tg::set_num_threads(saved);
}

TEST(Reduce, LargeAxis1) {
  const int saved = tg::num_threads();
  tg::set_num_threads(2);
  const tg::Tensor a = make({5000, 300}, 5, -1.0f, 1.0f);
  tg::Tensor gs = tg::sum(a, {1}), gm = tg::mean(a, {-1}, true), gx = tg::max(a, {1});
  ASSERT_EQ(gs.shape(), tg::Shape{5000});
  ASSERT_EQ(gm.shape(), (tg::Shape{5000, 1}));
  for (int64_t i = 0; i < 5000; ++i) {
    double s = 0, m = -1e30;
    for (int64_t j = 0; j < 300; ++j) {
      s += a.data()[i * 300 + j];
      m = std::max<double>(m, a.data()[i * 300 + j]);
    }
    ASSERT_NEAR(gs.data()[i], s, 2e-4) << i;
    ASSERT_NEAR(gm.data()[i], s / 300.0, 1e-6) << i;
    ASSERT_EQ(gx.data()[i], m) << i;
  }
  // Everything at once, as the naive double sum.
  double total = 0;
  for (int64_t i = 0; i < a.numel(); ++i) total += a.data()[i];
  EXPECT_NEAR(tg::sum(a).item(), total, 0.05);
  EXPECT_NEAR(tg::sum_all(a), total, 1e-9);
  tg::set_num_threads(saved);
}

TEST(Reduce, LargeMiddleAxis) {
  const tg::Tensor a = make({40, 700, 30}, 6, -1.0f, 1.0f);
  expect_matches(tg::sum(a, {1}), naive_reduce(a, {1}, false, Op::kSum), 5e-4, 1e-5);
  expect_matches(tg::max(a, {1}, true), naive_reduce(a, {1}, true, Op::kMax), 0, 0);
  expect_matches(tg::sum(a, {0, 2}), naive_reduce(a, {0, 2}, false, Op::kSum), 5e-3, 1e-5);
}

TEST(Reduce, ResultsDoNotDependOnThreadCount) {
  const int saved = tg::num_threads();
  const tg::Tensor a = make({5000, 300}, 7, -1.0f, 1.0f);
  tg::set_num_threads(1);
  tg::Tensor s1 = tg::sum(a, {0}), t1 = tg::sum(a, {1}), m1 = tg::max(a, {0});
  const double all1 = tg::sum_all(a), sq1 = tg::squared_norm(a);
  tg::set_num_threads(2);
  tg::Tensor s2 = tg::sum(a, {0}), t2 = tg::sum(a, {1}), m2 = tg::max(a, {0});
  const double all2 = tg::sum_all(a), sq2 = tg::squared_norm(a);
  tg::set_num_threads(saved);
  EXPECT_EQ(0, std::memcmp(s1.data(), s2.data(), sizeof(float) * s1.numel()));
  EXPECT_EQ(0, std::memcmp(t1.data(), t2.data(), sizeof(float) * t1.numel()));
  EXPECT_EQ(0, std::memcmp(m1.data(), m2.data(), sizeof(float) * m1.numel()));
  EXPECT_EQ(0, std::memcmp(&all1, &all2, sizeof(double)));
  EXPECT_EQ(0, std::memcmp(&sq1, &sq2, sizeof(double)));
}

namespace {

// Index of the first largest value along `axis`, naive.
NaiveResult naive_argmax(const tg::Tensor& a, int axis) {
  NaiveResult r;
  r.shape = a.shape().drop(axis, axis + 1);
  r.values.assign(r.shape.numel(), 0.0);
  std::vector<double> best(r.shape.numel(), -std::numeric_limits<double>::infinity());
  for (int64_t f = 0; f < a.numel(); ++f) {
    const auto idx = unravel(f, a.shape());
    int64_t o = 0;
    for (int i = 0; i < a.rank(); ++i)
      if (i != axis) o = o * a.shape()[i] + idx[i];
    // Elements along the axis are visited in increasing index order for a fixed o: keep the first max.
    if (a.data()[f] > best[o]) {
      best[o] = a.data()[f];
      r.values[o] = static_cast<double>(idx[axis]);
    }
  }
  return r;
}

}  // namespace

TEST(Reduce, ArgmaxHandComputed) {
  tg::Tensor a = tg::Tensor::from({2, 4}, {1, 7, 7, 3, 9, 2, 9, 9});
  EXPECT_EQ(tg::argmax(a).to_vector(), (std::vector<float>{1, 0}));  // ties -> first index
  EXPECT_EQ(tg::argmax(a, 1).to_vector(), (std::vector<float>{1, 0}));
  EXPECT_EQ(tg::argmax(a, 0).to_vector(), (std::vector<float>{1, 0, 1, 1}));
  EXPECT_EQ(tg::argmax(a, -2).to_vector(), (std::vector<float>{1, 0, 1, 1}));
  EXPECT_EQ(tg::argmax(a, 0).shape(), tg::Shape{4});
  tg::Tensor same = tg::Tensor::full({5}, 2.0f);
  EXPECT_EQ(tg::argmax(same).item(), 0.0f);
  tg::Tensor neg = tg::Tensor::from({3}, {-3, -1, -2});
  EXPECT_EQ(tg::argmax(neg).item(), 1.0f);
  EXPECT_EQ(tg::argmax(tg::Tensor::from({4}, {0, 0, 0, 1})).item(), 3.0f);  // last position
}

TEST(Reduce, ArgmaxEveryAxisWithTies) {
  // Small integers: many ties.
  const tg::Tensor a = make({3, 4, 5}, 8, 0.0f, 3.0f, true);
  for (int axis = 0; axis < 3; ++axis) {
    SCOPED_TRACE("axis " + std::to_string(axis));
    expect_matches(tg::argmax(a, axis), naive_argmax(a, axis), 0, 0);
    expect_matches(tg::argmax(a, axis - 3), naive_argmax(a, axis), 0, 0);
  }
  // Large, parallel.
  const tg::Tensor b = make({2000, 257}, 9, 0.0f, 50.0f, true);
  expect_matches(tg::argmax(b, 1), naive_argmax(b, 1), 0, 0);
  expect_matches(tg::argmax(b, 0), naive_argmax(b, 0), 0, 0);
}

TEST(Reduce, ArgmaxErrors) {
  tg::Tensor a = tg::Tensor::zeros({2, 3});
  EXPECT_TG_ERROR(tg::argmax(a, 2), "argmax", "axis 2", "2 dims");
  EXPECT_TG_ERROR(tg::argmax(a, -3), "argmax", "axis -3");
  EXPECT_TG_ERROR(tg::argmax(tg::Tensor::zeros({2, 0}), 1), "argmax", "(2, 0)");
  EXPECT_TG_ERROR(tg::argmax(tg::Tensor::scalar(1.0f)), "argmax");
}

TEST(Reduce, SumToUndoesBroadcasts) {
  struct Case {
    tg::Shape big, small;
  };
  for (const Case& c : {Case{{2, 3}, {3}}, Case{{2, 3}, {1, 3}}, Case{{2, 3}, {2, 1}}, Case{{2, 3}, {}},
                        Case{{2, 3}, {1, 1}}, Case{{4, 2, 3}, {2, 1}}, Case{{4, 2, 3}, {4, 1, 3}},
                        Case{{4, 2, 3}, {1, 2, 1}}, Case{{5, 1, 3}, {1, 3}}, Case{{2, 3}, {2, 3}}}) {
    SCOPED_TRACE(c.big.str() + " -> " + c.small.str());
    const tg::Tensor a = make(c.big, 10, -3.0f, 3.0f);
    tg::Tensor got = tg::sum_to(a, c.small);
    ASSERT_EQ(got.shape(), c.small);
    // Naive: add each element of `a` into the element of `small` it was broadcast from.
    std::vector<double> expect(c.small.numel(), 0.0);
    const int lead = c.big.rank() - c.small.rank();
    for (int64_t f = 0; f < a.numel(); ++f) {
      const auto idx = unravel(f, c.big);
      int64_t o = 0;
      for (int i = 0; i < c.small.rank(); ++i) o = o * c.small[i] + (c.small[i] == 1 ? 0 : idx[lead + i]);
      expect[o] += a.data()[f];
    }
    for (int64_t i = 0; i < got.numel(); ++i) EXPECT_NEAR(got.data()[i], expect[i], 1e-5) << i;
  }
  // By hand: [[1, 2, 3], [4, 5, 6]] -> (3,) and (2, 1).
  tg::Tensor h = tg::Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(tg::sum_to(h, {3}).to_vector(), (std::vector<float>{5, 7, 9}));
  EXPECT_EQ(tg::sum_to(h, {2, 1}).to_vector(), (std::vector<float>{6, 15}));
  EXPECT_EQ(tg::sum_to(h, {}).item(), 21.0f);
}

TEST(Reduce, SumToErrors) {
  tg::Tensor a = tg::Tensor::zeros({2, 3});
  EXPECT_TG_ERROR(tg::sum_to(a, {4}), "sum_to", "(2, 3)", "(4,)");
  EXPECT_TG_ERROR(tg::sum_to(a, {2, 2}), "sum_to", "(2, 3)", "(2, 2)");
  EXPECT_TG_ERROR(tg::sum_to(a, {3, 3}), "sum_to", "(2, 3)", "(3, 3)");
  EXPECT_TG_ERROR(tg::sum_to(a, {1, 2, 3}), "sum_to", "(2, 3)", "(1, 2, 3)");
  EXPECT_TG_ERROR(tg::sum_to(tg::Tensor::zeros({2, 1}), {2, 3}), "sum_to", "(2, 1)", "(2, 3)");
}

TEST(Reduce, SumAllAndSquaredNorm) {
  tg::Tensor a = tg::Tensor::from({2, 2}, {1.5f, -2.0f, 3.0f, 0.5f});
  EXPECT_EQ(tg::sum_all(a), 3.0);
  EXPECT_EQ(tg::squared_norm(a), 2.25 + 4.0 + 9.0 + 0.25);
  EXPECT_EQ(tg::sum_all(tg::Tensor::zeros({0})), 0.0);
  EXPECT_EQ(tg::squared_norm(tg::Tensor::zeros({0, 4})), 0.0);
  EXPECT_EQ(tg::sum_all(tg::Tensor::scalar(-4.0f)), -4.0);
  // Accumulated in double: 1e8 + many small values keeps the small ones.
  std::vector<float> v(100001, 1.0f);
  v[0] = 1e8f;
  tg::Tensor big = tg::Tensor::from({100001}, v);
  EXPECT_EQ(tg::sum_all(big), 1e8 + 100000.0);
  // Large random: against a naive double loop (exact up to summation order).
  const tg::Tensor r = make({300000}, 11, -2.0f, 2.0f);
  double s = 0, q = 0;
  for (int64_t i = 0; i < r.numel(); ++i) {
    s += r.data()[i];
    q += static_cast<double>(r.data()[i]) * r.data()[i];
  }
  // Only the summation order (and possibly fused multiply-adds) differs: relative 1e-12.
  EXPECT_NEAR(tg::sum_all(r), s, 1e-12 * 300000);
  EXPECT_NEAR(tg::squared_norm(r), q, 1e-12 * q);
}

TEST(Reduce, DuplicateAxisError) {
  tg::Tensor a = tg::Tensor::zeros({2, 3, 4});
  EXPECT_TG_ERROR(tg::sum(a, {1, 1}), "sum", "axis 1", "twice");
  EXPECT_TG_ERROR(tg::sum(a, {2, -1}), "sum", "twice");
  EXPECT_TG_ERROR(tg::mean(a, {0, -3}), "mean", "twice");
  EXPECT_TG_ERROR(tg::max(a, {-2, 1}), "max", "twice");
}

TEST(Reduce, AxisOutOfRangeError) {
  tg::Tensor a = tg::Tensor::zeros({2, 3, 4});
  EXPECT_TG_ERROR(tg::sum(a, {3}), "sum", "axis 3", "3 dims");
  EXPECT_TG_ERROR(tg::sum(a, {-4}), "sum", "axis -4", "3 dims");
  EXPECT_TG_ERROR(tg::mean(a, {0, 5}), "mean", "axis 5");
  EXPECT_TG_ERROR(tg::max(a, {7}), "max", "axis 7");
}

TEST(Reduce, MaxOverEmptyAxisError) {
  EXPECT_TG_ERROR(tg::max(tg::Tensor::zeros({0, 3}), {0}), "max", "(0, 3)", "empty");
  EXPECT_TG_ERROR(tg::max(tg::Tensor::zeros({2, 0}), {1}), "max", "(2, 0)", "empty");
  EXPECT_TG_ERROR(tg::max(tg::Tensor::zeros({0})), "max", "(0,)", "empty");
  // Reducing a non-empty axis of a tensor with an empty other axis is fine.
  EXPECT_EQ(tg::max(tg::Tensor::zeros({2, 0}), {0}).shape(), tg::Shape{0});
}

TEST(Reduce, MeanOverEmptyAxisError) {
  EXPECT_TG_ERROR(tg::mean(tg::Tensor::zeros({2, 0}), {1}), "mean", "(2, 0)", "empty");
  EXPECT_TG_ERROR(tg::mean(tg::Tensor::zeros({0})), "mean", "(0,)", "empty");
}

TEST(Reduce, MeanOverNonEmptyAxisOfEmptyTensor) {
  // numpy.mean(np.zeros((0, 3)), axis=1) -> array([], shape=(0,)): the averaged axis has 3 entries.
  tg::Tensor m = tg::mean(tg::Tensor::zeros({0, 3}), {1});
  EXPECT_EQ(m.shape(), tg::Shape{0});
  tg::Tensor k = tg::mean(tg::Tensor::zeros({3, 0}), {0}, true);
  EXPECT_EQ(k.shape(), (tg::Shape{1, 0}));
}
