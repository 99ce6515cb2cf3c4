// Layout ops: transpose, permute, slice/unslice, concat, take_rows, against naive index mappings.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "../error_matchers.h"
#include "../test_data.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/tensor.h"
#include "tapegrad/core/tensor_ops.h"

namespace tg = tapegrad;
using tapegrad::testing::make;
using tapegrad::testing::unravel;

namespace {


// A tensor whose every element is its own flat index: any misplaced element is visible.
tg::Tensor iota(const tg::Shape& shape) {
  std::vector<float> v(static_cast<size_t>(shape.numel()));
  std::iota(v.begin(), v.end(), 0.0f);
  return tg::Tensor::from(shape, v);
}

int64_t ravel(const std::vector<int64_t>& idx, const tg::Shape& shape) {
  int64_t off = 0;
  for (int d = 0; d < shape.rank(); ++d) off = off * shape[d] + idx[d];
  return off;
}

// Naive permute: out[i_0, ..., i_{r-1}] = a[j] with j[perm[k]] = i_k.
void check_permute(const tg::Tensor& a, const std::vector<int>& perm) {
  SCOPED_TRACE("permute " + a.shape().str());
  tg::Tensor got = tg::permute(a, perm);
  tg::Shape expect_shape;
  for (int p : perm) expect_shape.push_back(a.shape()[p]);
  ASSERT_EQ(got.shape(), expect_shape);
  for (int64_t f = 0; f < got.numel(); ++f) {
    const auto out_idx = unravel(f, expect_shape);
    std::vector<int64_t> in_idx(a.rank());
    for (int k = 0; k < a.rank(); ++k) in_idx[perm[k]] = out_idx[k];
    ASSERT_EQ(got.data()[f], a.data()[ravel(in_idx, a.shape())]) << "output element " << f;
  }
}

// The Python-style index list of a[start:stop:step] along an axis of length n.
std::vector<int64_t> py_range(int64_t n, int64_t start, int64_t stop, int64_t step) {
  if (start < 0) start += n;
  if (stop < 0) stop += n;
  start = std::min(std::max<int64_t>(start, 0), n);
  stop = std::min(std::max<int64_t>(stop, 0), n);
  std::vector<int64_t> out;
  for (int64_t i = start; i < stop; i += step) out.push_back(i);
  return out;
}

void check_slice(const tg::Tensor& a, int axis, int64_t start, int64_t stop, int64_t step) {
  SCOPED_TRACE("slice " + a.shape().str() + " axis " + std::to_string(axis) + " [" + std::to_string(start) + ":" +
               std::to_string(stop) + ":" + std::to_string(step) + "]");
  const int ax = axis < 0 ? axis + a.rank() : axis;
  const auto picks = py_range(a.shape()[ax], start, stop, step);
  tg::Tensor got = tg::slice(a, axis, start, stop, step);
  tg::Shape expect_shape = a.shape();
  expect_shape[ax] = static_cast<int64_t>(picks.size());
  ASSERT_EQ(got.shape(), expect_shape);
  for (int64_t f = 0; f < got.numel(); ++f) {
    auto idx = unravel(f, expect_shape);
    idx[ax] = picks[idx[ax]];
    ASSERT_EQ(got.data()[f], a.data()[ravel(idx, a.shape())]) << "output element " << f;
  }
}

}  // namespace

TEST(Layout, Transpose2D) {
  tg::Tensor a = tg::Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6});
  tg::Tensor t = tg::transpose(a);
  EXPECT_EQ(t.shape(), (tg::Shape{3, 2}));
  EXPECT_EQ(t.to_vector(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  EXPECT_FALSE(t.shares_storage(a));
  EXPECT_EQ(tg::transpose(t).to_vector(), a.to_vector());
  // A bigger one vs the naive mapping.
  tg::Tensor b = iota({37, 53});
  tg::Tensor bt = tg::transpose(b);
  ASSERT_EQ(bt.shape(), (tg::Shape{53, 37}));
  for (int64_t i = 0; i < 53; ++i)
    for (int64_t j = 0; j < 37; ++j) ASSERT_EQ(bt.data()[i * 37 + j], b.data()[j * 53 + i]);
}

TEST(Layout, TransposeBatched) {
  tg::Tensor a = iota({3, 4, 5});
  tg::Tensor t = tg::transpose(a);
  ASSERT_EQ(t.shape(), (tg::Shape{3, 5, 4}));
  for (int64_t b = 0; b < 3; ++b)
    for (int64_t i = 0; i < 5; ++i)
      for (int64_t j = 0; j < 4; ++j) ASSERT_EQ(t.data()[(b * 5 + i) * 4 + j], a.data()[(b * 4 + j) * 5 + i]);
  tg::Tensor c = iota({2, 3, 4, 5});
  EXPECT_EQ(tg::transpose(c).shape(), (tg::Shape{2, 3, 5, 4}));
  check_permute(c, {0, 1, 3, 2});
  EXPECT_EQ(tg::transpose(c).to_vector(), tg::permute(c, {0, 1, 3, 2}).to_vector());
}

TEST(Layout, TransposeNeedsTwoDims) {
  EXPECT_TG_ERROR(tg::transpose(tg::Tensor::zeros({3})), "transpose", "(3,)");
  EXPECT_TG_ERROR(tg::transpose(tg::Tensor::scalar(1.0f)), "transpose", "()");
}

TEST(Layout, Permute3DAllPermutations) {
  tg::Tensor a = iota({2, 3, 4});
  std::vector<int> perm = {0, 1, 2};
  do {
    check_permute(a, perm);
  } while (std::next_permutation(perm.begin(), perm.end()));
  // By hand: (2, 3, 4) -> perm (2, 0, 1) -> shape (4, 2, 3); out[3, 1, 2] = a[1, 2, 3] = 23.
  tg::Tensor p = tg::permute(a, {2, 0, 1});
  EXPECT_EQ(p.shape(), (tg::Shape{4, 2, 3}));
  EXPECT_EQ(p.at({3, 1, 2}), 23.0f);
  EXPECT_EQ(p.at({0, 1, 0}), 12.0f);
}

TEST(Layout, Permute4DAllPermutations) {
  tg::Tensor a = iota({2, 3, 4, 5});
  std::vector<int> perm = {0, 1, 2, 3};
  do {
    check_permute(a, perm);
  } while (std::next_permutation(perm.begin(), perm.end()));
}

TEST(Layout, PermuteLargeAndSizeOneDims) {
  check_permute(iota({64, 1, 130, 9}), {2, 3, 1, 0});  // ~75k elements: parallel path
  check_permute(iota({1, 7, 1}), {2, 0, 1});
  check_permute(tg::Tensor::scalar(5.0f), {});
  EXPECT_EQ(tg::permute(tg::Tensor::zeros({0, 3}), {1, 0}).shape(), (tg::Shape{3, 0}));
}

TEST(Layout, PermuteInvalid) {
  tg::Tensor a = tg::Tensor::zeros({2, 3, 4});
  EXPECT_TG_ERROR(tg::permute(a, {0, 1}), "permute", "(0, 1)", "(2, 3, 4)");
  EXPECT_TG_ERROR(tg::permute(a, {0, 1, 2, 3}), "permute", "(0, 1, 2, 3)", "(2, 3, 4)");
  EXPECT_TG_ERROR(tg::permute(a, {0, 1, 1}), "permute", "(0, 1, 1)", "(2, 3, 4)");
  EXPECT_TG_ERROR(tg::permute(a, {0, 1, 3}), "permute", "(0, 1, 3)", "(2, 3, 4)");
  EXPECT_TG_ERROR(tg::permute(a, {-1, 0, 1}), "permute", "(-1, 0, 1)", "(2, 3, 4)");
}

TEST(Layout, SliceHandComputed) {
  tg::Tensor a = tg::Tensor::arange(10);
  EXPECT_EQ(tg::slice(a, 0, 2, 5).to_vector(), (std::vector<float>{2, 3, 4}));
  EXPECT_EQ(tg::slice(a, 0, -3, 10).to_vector(), (std::vector<float>{7, 8, 9}));
  EXPECT_EQ(tg::slice(a, 0, 1, -1, 3).to_vector(), (std::vector<float>{1, 4, 7}));
  EXPECT_EQ(tg::slice(a, 0, 0, 10, 2).to_vector(), (std::vector<float>{0, 2, 4, 6, 8}));
  EXPECT_EQ(tg::slice(a, 0, -100, 3).to_vector(), (std::vector<float>{0, 1, 2}));  // start clamped to 0
  EXPECT_EQ(tg::slice(a, 0, 8, 100).to_vector(), (std::vector<float>{8, 9}));      // stop clamped to n
  EXPECT_EQ(tg::slice(a, 0, 5, 3).shape(), tg::Shape{0});                          // empty
  EXPECT_EQ(tg::slice(a, 0, 20, 30).shape(), tg::Shape{0});
  EXPECT_EQ(tg::slice(a, 0, -1, -100).shape(), tg::Shape{0});
  EXPECT_EQ(tg::slice(a, 0, 9, 10, 5).to_vector(), (std::vector<float>{9}));
  tg::Tensor m = tg::Tensor::from({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  EXPECT_EQ(tg::slice(m, 1, 1, 3).to_vector(), (std::vector<float>{2, 3, 5, 6, 8, 9}));
  EXPECT_EQ(tg::slice(m, 0, 0, 3, 2).to_vector(), (std::vector<float>{1, 2, 3, 7, 8, 9}));
  EXPECT_EQ(tg::slice(m, -1, -1, 3).to_vector(), (std::vector<float>{3, 6, 9}));
}

TEST(Layout, SliceEveryAxisManyRanges) {
  const tg::Tensor a = iota({4, 5, 6});
  const std::vector<std::vector<int64_t>> ranges = {
      {0, 100, 1}, {1, 3, 1},  {-2, 100, 1}, {-100, -1, 1}, {0, 6, 2}, {1, -1, 2}, {-5, 5, 3},
      {3, 3, 1},   {4, 1, 1},  {7, 9, 1},    {-1, -1, 1},   {0, 1, 1}, {2, 6, 4}, {0, 6, 100}};
  for (int axis = -3; axis < 3; ++axis)
    for (const auto& r : ranges) check_slice(a, axis, r[0], r[1], r[2]);
}

TEST(Layout, SliceHugeStep) {
  // a[0:10:huge] is just a[0], as in Python; the element count must not overflow.
  tg::Tensor a = tg::Tensor::arange(10);
  EXPECT_EQ(tg::slice(a, 0, 0, 10, int64_t{1} << 62).to_vector(), (std::vector<float>{0}));
  EXPECT_EQ(tg::slice(a, 0, 3, 10, std::numeric_limits<int64_t>::max()).to_vector(), (std::vector<float>{3}));
  EXPECT_EQ(tg::slice(a, 0, 0, std::numeric_limits<int64_t>::max()).numel(), 10);
  EXPECT_EQ(tg::slice(a, 0, std::numeric_limits<int64_t>::min(), 2).to_vector(), (std::vector<float>{0, 1}));
}

TEST(Layout, RandomPermutesAndSlices) {
  uint32_t x = 777;
  auto next = [&](uint32_t n) {
    x = x * 1664525u + 1013904223u;
    return (x >> 8) % n;
  };
  for (int trial = 0; trial < 60; ++trial) {
    const int rank = 1 + static_cast<int>(next(6));
    std::vector<int64_t> dims(rank);
    for (auto& d : dims) d = 1 + next(4);
    const tg::Tensor a = iota(tg::Shape(dims));
    std::vector<int> perm(rank);
    std::iota(perm.begin(), perm.end(), 0);
    for (int i = rank - 1; i > 0; --i) std::swap(perm[i], perm[next(i + 1)]);
    check_permute(a, perm);
    const int axis = static_cast<int>(next(rank));
    const int64_t n = dims[axis];
    check_slice(a, axis, static_cast<int64_t>(next(2 * n + 1)) - n, static_cast<int64_t>(next(2 * n + 3)) - n - 1,
                1 + next(3));
  }
}

TEST(Layout, SliceLarge) {
  const tg::Tensor a = iota({300, 400});
  check_slice(a, 0, 10, 290, 3);
  check_slice(a, 1, -350, -1, 2);
}

TEST(Layout, SliceErrors) {
  tg::Tensor a = tg::Tensor::zeros({2, 3});
  EXPECT_TG_ERROR(tg::slice(a, 2, 0, 1), "slice", "axis 2", "2 dims");
  EXPECT_TG_ERROR(tg::slice(a, -3, 0, 1), "slice", "axis -3");
  EXPECT_TG_ERROR(tg::slice(a, 0, 0, 1, 0), "slice", "step", "0");
  EXPECT_TG_ERROR(tg::slice(a, 0, 0, 1, -1), "slice", "step", "-1");
}

TEST(Layout, UnsliceIsTheInverseOfSlice) {
  const tg::Shape shape{4, 5, 6};
  const tg::Tensor x = iota(shape) + 1.0f;  // nonzero everywhere
  struct Case {
    int axis;
    int64_t start, step;
    int64_t count;
  };
  for (const Case& c : {Case{0, 0, 1, 4}, Case{0, 1, 2, 2}, Case{1, 2, 1, 3}, Case{1, 0, 2, 3}, Case{2, 1, 2, 3},
                        Case{2, 5, 1, 1}, Case{-1, 0, 5, 2}, Case{1, -2, 1, 2}, Case{2, 3, 1, 0}}) {
    SCOPED_TRACE("axis " + std::to_string(c.axis) + " start " + std::to_string(c.start) + " step " +
                 std::to_string(c.step));
    const int ax = c.axis < 0 ? c.axis + 3 : c.axis;
    const int64_t n = shape[ax];
    const int64_t start = c.start < 0 ? c.start + n : c.start;
    tg::Tensor part = tg::slice(x, c.axis, start, start + (c.count - 1) * c.step + 1, c.step);
    ASSERT_EQ(part.shape()[ax], c.count);
    tg::Tensor u = tg::unslice(part, shape, c.axis, c.start, c.step);
    ASSERT_EQ(u.shape(), shape);
    // slice(unslice(x)) == x
    EXPECT_EQ(tg::slice(u, c.axis, start, start + (c.count - 1) * c.step + 1, c.step).to_vector(), part.to_vector());
    // Naive: every element is x's where the index is start + k * step, else 0.
    for (int64_t f = 0; f < u.numel(); ++f) {
      const auto idx = unravel(f, shape);
      const int64_t off = idx[ax] - start;
      const bool picked = off >= 0 && off % c.step == 0 && off / c.step < c.count;
      ASSERT_EQ(u.data()[f], picked ? x.data()[f] : 0.0f) << "element " << f;
    }
  }
}

TEST(Layout, UnsliceErrors) {
  tg::Tensor part = tg::Tensor::ones({2, 3});
  EXPECT_TG_ERROR(tg::unslice(part, {4, 4}, 0, 0, 1), "unslice", "(2, 3)", "(4, 4)");  // other dim differs
  EXPECT_TG_ERROR(tg::unslice(part, {4, 3}, 0, 3, 1), "unslice", "(2, 3)", "(4, 3)");  // runs past the end
  EXPECT_TG_ERROR(tg::unslice(part, {4, 3}, 0, 0, 4), "unslice", "(2, 3)", "(4, 3)");  // step too large
  EXPECT_TG_ERROR(tg::unslice(part, {4, 3}, 0, 0, 0), "unslice", "(2, 3)", "(4, 3)");
  EXPECT_TG_ERROR(tg::unslice(part, {4, 3, 1}, 0, 0, 1), "unslice", "(2, 3)", "(4, 3, 1)");
  EXPECT_TG_ERROR(tg::unslice(part, {4, 3}, 2, 0, 1), "unslice", "axis 2");
}

TEST(Layout, ConcatEveryAxis3D) {
  const tg::Tensor a = iota({2, 3, 4});
  const tg::Tensor b = iota({2, 3, 4}) + 1000.0f;
  const tg::Tensor c = iota({2, 3, 4}) + 2000.0f;
  for (int axis = 0; axis < 3; ++axis) {
    SCOPED_TRACE("axis " + std::to_string(axis));
    // Parts of different lengths along the axis: a[:1], b, c[:2] along `axis`.
    const tg::Tensor pa = tg::slice(a, axis, 0, 1), pb = b, pc = tg::slice(c, axis, 0, 2);
    const std::vector<tg::Tensor> parts = {pa, pb, pc};
    tg::Tensor got = tg::concat(parts, axis);
    tg::Shape expect_shape = a.shape();
    expect_shape[axis] = pa.shape()[axis] + pb.shape()[axis] + pc.shape()[axis];
    ASSERT_EQ(got.shape(), expect_shape);
    for (int64_t f = 0; f < got.numel(); ++f) {
      auto idx = unravel(f, expect_shape);
      int64_t k = idx[axis];
      size_t p = 0;
      while (k >= parts[p].shape()[axis]) k -= parts[p++].shape()[axis];
      idx[axis] = k;
      ASSERT_EQ(got.data()[f], parts[p].data()[ravel(idx, parts[p].shape())]) << "element " << f;
    }
    // Negative axis gives the same.
    EXPECT_EQ(tg::concat(parts, axis - 3).to_vector(), got.to_vector());
  }
}

TEST(Layout, ConcatHandComputedAndSpecialCases) {
  tg::Tensor a = tg::Tensor::from({2, 2}, {1, 2, 3, 4});
  tg::Tensor b = tg::Tensor::from({2, 1}, {5, 6});
  EXPECT_EQ(tg::concat({a, b}, 1).to_vector(), (std::vector<float>{1, 2, 5, 3, 4, 6}));
  EXPECT_EQ(tg::concat({a, a}, 0).to_vector(), (std::vector<float>{1, 2, 3, 4, 1, 2, 3, 4}));
  // One part: a copy.
  tg::Tensor one = tg::concat({a}, 0);
  EXPECT_EQ(one.to_vector(), a.to_vector());
  EXPECT_FALSE(one.shares_storage(a));
  // An empty part contributes nothing.
  EXPECT_EQ(tg::concat({a, tg::Tensor::zeros({0, 2}), a}, 0).shape(), (tg::Shape{4, 2}));
  EXPECT_EQ(tg::concat({tg::Tensor::zeros({2, 0}), b}, 1).to_vector(), (std::vector<float>{5, 6}));
}

TEST(Layout, ConcatErrors) {
  tg::Tensor a = tg::Tensor::zeros({2, 3});
  EXPECT_TG_ERROR(tg::concat({}, 0), "concat");
  EXPECT_TG_ERROR(tg::concat({a, tg::Tensor::zeros({3, 3})}, 1), "concat", "(3, 3)", "(2, 3)");
  EXPECT_TG_ERROR(tg::concat({a, tg::Tensor::zeros({2, 4})}, 0), "concat", "(2, 4)", "(2, 3)");
  EXPECT_TG_ERROR(tg::concat({a, tg::Tensor::zeros({2, 3, 1})}, 0), "concat", "(2, 3, 1)", "(2, 3)");
  EXPECT_TG_ERROR(tg::concat({a, tg::Tensor::zeros({6})}, 0), "concat", "(6,)", "(2, 3)");
  EXPECT_TG_ERROR(tg::concat({a, a}, 2), "concat", "axis 2");
  EXPECT_TG_ERROR(tg::concat({a, tg::Tensor()}, 0), "concat");
}

TEST(Layout, TakeRows) {
  tg::Tensor a = tg::Tensor::from({4, 2}, {0, 1, 10, 11, 20, 21, 30, 31});
  tg::Tensor t = tg::take_rows(a, {3, 0, 0, 2});
  EXPECT_EQ(t.shape(), (tg::Shape{4, 2}));
  EXPECT_EQ(t.to_vector(), (std::vector<float>{30, 31, 0, 1, 0, 1, 20, 21}));
  EXPECT_EQ(tg::take_rows(a, {}).shape(), (tg::Shape{0, 2}));
  EXPECT_EQ(tg::take_rows(a, {1}).to_vector(), (std::vector<float>{10, 11}));
  tg::Tensor v = tg::Tensor::from({3}, {7, 8, 9});
  EXPECT_EQ(tg::take_rows(v, {2, 1}).to_vector(), (std::vector<float>{9, 8}));
  // Rank 3, naive.
  tg::Tensor c = iota({5, 3, 2});
  const std::vector<int64_t> idx = {4, 1, 1, 0, 3, 2};
  tg::Tensor r = tg::take_rows(c, idx);
  ASSERT_EQ(r.shape(), (tg::Shape{6, 3, 2}));
  for (size_t i = 0; i < idx.size(); ++i)
    for (int64_t j = 0; j < 6; ++j) EXPECT_EQ(r.data()[i * 6 + j], c.data()[idx[i] * 6 + j]);
}

TEST(Layout, TakeRowsErrors) {
  tg::Tensor a = tg::Tensor::zeros({4, 2});
  EXPECT_TG_ERROR(tg::take_rows(a, {0, 4}), "take_rows", "index 4", "(4, 2)");
  EXPECT_TG_ERROR(tg::take_rows(a, {-1}), "take_rows", "index -1", "(4, 2)");
  EXPECT_TG_ERROR(tg::take_rows(tg::Tensor::scalar(1.0f), {0}), "take_rows", "()");
  EXPECT_TG_ERROR(tg::take_rows(tg::Tensor::zeros({0, 3}), {0}), "take_rows", "index 0", "(0, 3)");
}
