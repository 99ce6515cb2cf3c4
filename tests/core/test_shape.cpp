// Shape: construction, rank/numel/str, strides, drop, axis normalisation and NumPy broadcasting.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../error_matchers.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/shape.h"

namespace tg = tapegrad;

namespace {


}  // namespace

TEST(Shape, DefaultIsScalar) {
  tg::Shape s;
  EXPECT_EQ(s.rank(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.str(), "()");
  EXPECT_TRUE(s.to_vector().empty());
  EXPECT_EQ(s.begin(), s.end());
}

TEST(Shape, InitializerListConstruction) {
  tg::Shape s{2, 3, 4};
  EXPECT_EQ(s.rank(), 3);
  EXPECT_EQ(s[0], 2);
  EXPECT_EQ(s[1], 3);
  EXPECT_EQ(s[2], 4);
  EXPECT_EQ(s.numel(), 24);
  EXPECT_EQ(s.to_vector(), (std::vector<int64_t>{2, 3, 4}));
  std::vector<int64_t> iterated(s.begin(), s.end());
  EXPECT_EQ(iterated, (std::vector<int64_t>{2, 3, 4}));
}

TEST(Shape, VectorConstruction) {
  tg::Shape s(std::vector<int64_t>{7, 1, 5});
  EXPECT_EQ(s.rank(), 3);
  EXPECT_EQ(s.numel(), 35);
  EXPECT_EQ(s, (tg::Shape{7, 1, 5}));
  tg::Shape empty_vec(std::vector<int64_t>{});
  EXPECT_EQ(empty_vec.rank(), 0);
  EXPECT_EQ(empty_vec, tg::Shape{});
}

TEST(Shape, NumelWithZeroExtent) {
  EXPECT_EQ((tg::Shape{3, 0, 5}).numel(), 0);
  EXPECT_EQ((tg::Shape{0}).numel(), 0);
  EXPECT_EQ((tg::Shape{1, 1, 1}).numel(), 1);
  EXPECT_EQ((tg::Shape{1000, 1000, 1000}).numel(), int64_t{1000000000});
}

TEST(Shape, Str) {
  EXPECT_EQ((tg::Shape{2, 3}).str(), "(2, 3)");
  EXPECT_EQ((tg::Shape{5}).str(), "(5,)");
  EXPECT_EQ(tg::Shape{}.str(), "()");
  EXPECT_EQ((tg::Shape{1, 2, 3, 4}).str(), "(1, 2, 3, 4)");
  EXPECT_EQ((tg::Shape{0}).str(), "(0,)");
  EXPECT_EQ((tg::Shape{12345678901LL, 2}).str(), "(12345678901, 2)");
}

TEST(Shape, Equality) {
  EXPECT_TRUE((tg::Shape{2, 3}) == (tg::Shape{2, 3}));
  EXPECT_FALSE((tg::Shape{2, 3}) != (tg::Shape{2, 3}));
  EXPECT_NE((tg::Shape{2, 3}), (tg::Shape{3, 2}));
  EXPECT_NE((tg::Shape{2, 3}), (tg::Shape{2, 3, 1}));
  EXPECT_NE((tg::Shape{1}), tg::Shape{});
  // Storage beyond the rank must not matter: (4, 9) with its second dim dropped equals (4,).
  tg::Shape a{4, 9};
  EXPECT_EQ(a.drop(1, 2), tg::Shape{4});
}

TEST(Shape, DimWithNegativeIndex) {
  tg::Shape s{2, 3, 4};
  EXPECT_EQ(s.dim(0), 2);
  EXPECT_EQ(s.dim(2), 4);
  EXPECT_EQ(s.dim(-1), 4);
  EXPECT_EQ(s.dim(-3), 2);
  EXPECT_TG_ERROR(s.dim(3), "Shape::dim", "axis 3", "3 dims");
  EXPECT_TG_ERROR(s.dim(-4), "Shape::dim", "axis -4", "3 dims");
}

TEST(Shape, IndexIsWritable) {
  tg::Shape s{2, 3};
  s[1] = 7;
  EXPECT_EQ(s, (tg::Shape{2, 7}));
  EXPECT_EQ(s.numel(), 14);
}

TEST(Shape, PushBack) {
  tg::Shape s;
  s.push_back(4);
  s.push_back(0);
  s.push_back(2);
  EXPECT_EQ(s, (tg::Shape{4, 0, 2}));
  EXPECT_TG_ERROR(s.push_back(-1), "Shape", "negative", "-1");
  tg::Shape full{1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_TG_ERROR(full.push_back(9), "Shape", "(1, 2, 3, 4, 5, 6, 7, 8)", "8 dims");
}

TEST(Shape, Strides) {
  const auto s = (tg::Shape{2, 3, 4}).strides();
  EXPECT_EQ(s[0], 12);
  EXPECT_EQ(s[1], 4);
  EXPECT_EQ(s[2], 1);
  const auto t = (tg::Shape{5}).strides();
  EXPECT_EQ(t[0], 1);
  const auto u = (tg::Shape{2, 1, 3, 5, 7}).strides();
  const int64_t expect_u[] = {105, 105, 35, 7, 1};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(u[i], expect_u[i]) << "dim " << i;
  // A zero extent: strides still follow the row-major formula over the later dims.
  const auto z = (tg::Shape{3, 0, 2}).strides();
  EXPECT_EQ(z[0], 0);
  EXPECT_EQ(z[1], 2);
  EXPECT_EQ(z[2], 1);
}

TEST(Shape, StridesMatchNaiveForEightDims) {
  tg::Shape s{2, 3, 1, 4, 2, 1, 3, 2};
  const auto st = s.strides();
  for (int i = 0; i < 8; ++i) {
    int64_t expect = 1;
    for (int j = i + 1; j < 8; ++j) expect *= s[j];
    EXPECT_EQ(st[i], expect) << "dim " << i;
  }
}

TEST(Shape, Drop) {
  tg::Shape s{2, 3, 4, 5};
  EXPECT_EQ(s.drop(0, 1), (tg::Shape{3, 4, 5}));
  EXPECT_EQ(s.drop(3, 4), (tg::Shape{2, 3, 4}));
  EXPECT_EQ(s.drop(1, 3), (tg::Shape{2, 5}));
  EXPECT_EQ(s.drop(2, 4), (tg::Shape{2, 3}));
  EXPECT_EQ(s.drop(0, 4), tg::Shape{});
  EXPECT_EQ(s.drop(2, 2), s);
  EXPECT_EQ(s, (tg::Shape{2, 3, 4, 5}));  // unchanged
}

TEST(Shape, NegativeDimsThrow) {
  EXPECT_TG_ERROR((tg::Shape{2, -1}), "Shape", "negative", "-1", "dim 1");
  EXPECT_TG_ERROR(tg::Shape(std::vector<int64_t>{-3}), "Shape", "negative", "-3", "dim 0");
}

TEST(Shape, TooManyDimsThrow) {
  EXPECT_NO_THROW((tg::Shape{1, 1, 1, 1, 1, 1, 1, 1}));
  EXPECT_EQ((tg::Shape{1, 2, 1, 2, 1, 2, 1, 2}).rank(), 8);
  EXPECT_TG_ERROR((tg::Shape{1, 1, 1, 1, 1, 1, 1, 1, 1}), "Shape", "9 dims", "8");
  EXPECT_TG_ERROR(tg::Shape(std::vector<int64_t>(10, 2)), "Shape", "10 dims", "8");
}

TEST(Shape, NormalizeAxis) {
  EXPECT_EQ(tg::normalize_axis(0, 3, "op"), 0);
  EXPECT_EQ(tg::normalize_axis(2, 3, "op"), 2);
  EXPECT_EQ(tg::normalize_axis(-1, 3, "op"), 2);
  EXPECT_EQ(tg::normalize_axis(-2, 3, "op"), 1);
  EXPECT_EQ(tg::normalize_axis(-3, 3, "op"), 0);
  EXPECT_EQ(tg::normalize_axis(-1, 1, "op"), 0);
}

TEST(Shape, NormalizeAxisOutOfRange) {
  EXPECT_TG_ERROR(tg::normalize_axis(3, 3, "myop"), "myop", "axis 3", "3 dims");
  EXPECT_TG_ERROR(tg::normalize_axis(-4, 3, "myop"), "myop", "axis -4", "3 dims");
  EXPECT_TG_ERROR(tg::normalize_axis(0, 0, "scalar_op"), "scalar_op", "axis 0", "0 dims");
  EXPECT_TG_ERROR(tg::normalize_axis(-1, 0, "scalar_op"), "scalar_op", "axis -1");
}

TEST(Shape, BroadcastSameShape) {
  EXPECT_EQ(tg::broadcast_shapes(tg::Shape{2, 3}, tg::Shape{2, 3}, "op"), (tg::Shape{2, 3}));
  EXPECT_EQ(tg::broadcast_shapes(tg::Shape{}, tg::Shape{}, "op"), tg::Shape{});
}

TEST(Shape, BroadcastRules) {
  auto bc = [](tg::Shape a, tg::Shape b) { return tg::broadcast_shapes(a, b, "op"); };
  EXPECT_EQ(bc({2, 3}, {3}), (tg::Shape{2, 3}));
  EXPECT_EQ(bc({3}, {2, 3}), (tg::Shape{2, 3}));
  EXPECT_EQ(bc({2, 1}, {1, 3}), (tg::Shape{2, 3}));
  EXPECT_EQ(bc({4, 1, 3}, {2, 1}), (tg::Shape{4, 2, 3}));
  EXPECT_EQ(bc({2, 1}, {4, 1, 3}), (tg::Shape{4, 2, 3}));
  EXPECT_EQ(bc({}, {2, 3}), (tg::Shape{2, 3}));
  EXPECT_EQ(bc({2, 3}, {}), (tg::Shape{2, 3}));
  EXPECT_EQ(bc({1}, {5}), (tg::Shape{5}));
  EXPECT_EQ(bc({1, 1}, {1}), (tg::Shape{1, 1}));
  EXPECT_EQ(bc({8, 1, 6, 1}, {7, 1, 5}), (tg::Shape{8, 7, 6, 5}));  // the NumPy docs' example
  EXPECT_EQ(bc({5, 4}, {1}), (tg::Shape{5, 4}));
  EXPECT_EQ(bc({15, 3, 5}, {15, 1, 5}), (tg::Shape{15, 3, 5}));
  EXPECT_EQ(bc({15, 3, 5}, {3, 1}), (tg::Shape{15, 3, 5}));
  // A size-0 dim broadcasts against 1 (NumPy gives 0), and 0 with 0 is 0.
  EXPECT_EQ(bc({0, 3}, {1, 3}), (tg::Shape{0, 3}));
  EXPECT_EQ(bc({1}, {0}), (tg::Shape{0}));
  EXPECT_EQ(bc({0}, {0}), (tg::Shape{0}));
}

TEST(Shape, BroadcastErrorNamesOpAndBothShapes) {
  EXPECT_TG_ERROR(tg::broadcast_shapes(tg::Shape{2, 3}, tg::Shape{4}, "add"), "add", "(2, 3)", "(4,)");
  EXPECT_TG_ERROR(tg::broadcast_shapes(tg::Shape{2, 1}, tg::Shape{8, 4, 3}, "mul"), "mul", "(2, 1)", "(8, 4, 3)");
  EXPECT_TG_ERROR(tg::broadcast_shapes(tg::Shape{3}, tg::Shape{0}, "sub"), "sub", "(3,)", "(0,)");
}

TEST(Shape, WithBatchStr) {
  EXPECT_EQ(tg::with_batch_str(tg::Shape{16}), "(None, 16)");
  EXPECT_EQ(tg::with_batch_str(tg::Shape{28, 28, 3}), "(None, 28, 28, 3)");
  // A scalar per sample gives a 1-tuple, which Python/Keras print with a trailing comma,
  // as Shape::str() does for rank 1.
  EXPECT_EQ(tg::with_batch_str(tg::Shape{}), "(None,)");
}
