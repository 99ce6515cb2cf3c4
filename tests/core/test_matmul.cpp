// matmul against a naive triple loop (double accumulation): 2-D, transposed operands, batched,
// shared right-hand side, the parallel block paths, errors and thread-count independence.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
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


// Element (i, j) of the logical (rows x cols) matrix stored at p, possibly transposed.
inline double elem(const float* p, int64_t i, int64_t j, int64_t rows, int64_t cols, bool trans) {
  return trans ? p[j * rows + i] : p[i * cols + j];
}

// C = op(A) * op(B) for one (m, k) x (k, n) product, in double.
std::vector<double> naive(const float* a, const float* b, int64_t m, int64_t k, int64_t n, bool ta, bool tb) {
  std::vector<double> c(static_cast<size_t>(m * n), 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0.0;
      for (int64_t p = 0; p < k; ++p) s += elem(a, i, p, m, k, ta) * elem(b, p, j, k, n, tb);
      c[i * n + j] = s;
    }
  return c;
}

// Compares got (m x n at offset) with the naive product; tolerance scales with k (|values| <= 1).
void expect_product(const float* got, const std::vector<double>& expect, int64_t k, const std::string& what) {
  const double tol = 1e-6 * static_cast<double>(k) + 1e-6;
  int bad = 0;
  for (size_t i = 0; i < expect.size() && bad < 10; ++i)
    if (!(std::fabs(got[i] - expect[i]) <= tol)) {
      ++bad;
      ADD_FAILURE() << what << " element " << i << ": got " << got[i] << ", expected " << expect[i];
    }
}

// Builds A and B stored for the given transposition flags and checks a 2-D product.
void check_2d(int64_t m, int64_t k, int64_t n, bool ta, bool tb, uint32_t seed) {
  const std::string what = "(" + std::to_string(m) + "x" + std::to_string(k) + ")*(" + std::to_string(k) + "x" +
                           std::to_string(n) + ") ta=" + std::to_string(ta) + " tb=" + std::to_string(tb);
  SCOPED_TRACE(what);
  tg::Tensor a = ta ? make({k, m}, seed) : make({m, k}, seed);
  tg::Tensor b = tb ? make({n, k}, seed + 1) : make({k, n}, seed + 1);
  tg::Tensor c = tg::matmul(a, b, ta, tb);
  ASSERT_EQ(c.shape(), (tg::Shape{m, n}));
  expect_product(c.data(), naive(a.data(), b.data(), m, k, n, ta, tb), k, what);
}

}  // namespace

TEST(Matmul, HandComputed) {
  // [[1, 2, 3], [4, 5, 6]] * [[7, 8], [9, 10], [11, 12]] = [[58, 64], [139, 154]]
  tg::Tensor a = tg::Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6});
  tg::Tensor b = tg::Tensor::from({3, 2}, {7, 8, 9, 10, 11, 12});
  tg::Tensor c = tg::matmul(a, b);
  EXPECT_EQ(c.shape(), (tg::Shape{2, 2}));
  EXPECT_EQ(c.to_vector(), (std::vector<float>{58, 64, 139, 154}));
  // a^T a = [[17, 22, 27], [22, 29, 36], [27, 36, 45]]
  EXPECT_EQ(tg::matmul(a, a, true, false).to_vector(), (std::vector<float>{17, 22, 27, 22, 29, 36, 27, 36, 45}));
  // a a^T = [[14, 32], [32, 77]]
  EXPECT_EQ(tg::matmul(a, a, false, true).to_vector(), (std::vector<float>{14, 32, 32, 77}));
  // b^T a^T = (a b)^T
  EXPECT_EQ(tg::matmul(b, a, true, true).to_vector(), (std::vector<float>{58, 139, 64, 154}));
}

TEST(Matmul, TwoDShapes) {
  const int64_t shapes[][3] = {{1, 1, 1}, {1, 7, 1}, {1, 17, 9}, {9, 17, 1}, {5, 1, 6}, {3, 4, 5},
                               {7, 3, 11}, {16, 16, 16}, {33, 65, 17}, {64, 64, 64}, {100, 3, 2}, {2, 3, 100}};
  uint32_t seed = 1;
  for (const auto& s : shapes) check_2d(s[0], s[1], s[2], false, false, seed += 2);
}

TEST(Matmul, RowAndColumnVectors) {
  check_2d(1, 300, 1, false, false, 3);   // (1 x K) * (K x 1)
  check_2d(300, 1, 300, false, false, 5);  // outer product (K x 1) * (1 x K): parallel path, k = 1
  check_2d(1, 500, 400, false, false, 7);  // a single row against a wide matrix
  check_2d(400, 500, 1, false, false, 9);  // a tall matrix times a column
}

TEST(Matmul, ParallelBlockPaths) {
  check_2d(300, 200, 150, false, false, 11);  // row blocks
  check_2d(70, 500, 400, false, false, 13);   // row blocks, m just above 2 * 32
  check_2d(40, 300, 500, false, false, 15);   // m < 64 < n: column blocks
  check_2d(1, 2000, 700, false, false, 17);   // a single row, many columns
  check_2d(257, 129, 65, false, false, 19);   // ragged final blocks
}

TEST(Matmul, AllTransposeCombinations) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      check_2d(3, 4, 5, ta, tb, 21);
      check_2d(1, 6, 7, ta, tb, 23);
      check_2d(8, 5, 1, ta, tb, 25);
      check_2d(300, 200, 150, ta, tb, 27);  // parallel rows
      check_2d(40, 300, 500, ta, tb, 29);   // parallel columns
    }
}

TEST(Matmul, ZeroInnerDimension) {
  tg::Tensor c = tg::matmul(tg::Tensor::zeros({3, 0}), tg::Tensor::zeros({0, 4}));
  EXPECT_EQ(c.shape(), (tg::Shape{3, 4}));
  for (float v : c.to_vector()) EXPECT_EQ(v, 0.0f);
  EXPECT_EQ(tg::matmul(tg::Tensor::zeros({0, 5}), tg::Tensor::zeros({5, 4})).shape(), (tg::Shape{0, 4}));
}

TEST(Matmul, Batched) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      SCOPED_TRACE("ta=" + std::to_string(ta) + " tb=" + std::to_string(tb));
      const int64_t B = 3, m = 4, k = 5, n = 6;
      tg::Tensor a = ta ? make({B, k, m}, 31) : make({B, m, k}, 31);
      tg::Tensor b = tb ? make({B, n, k}, 32) : make({B, k, n}, 32);
      tg::Tensor c = tg::matmul(a, b, ta, tb);
      ASSERT_EQ(c.shape(), (tg::Shape{B, m, n}));
      for (int64_t i = 0; i < B; ++i)
        expect_product(c.data() + i * m * n, naive(a.data() + i * m * k, b.data() + i * k * n, m, k, n, ta, tb), k,
                       "batch " + std::to_string(i));
    }
}

TEST(Matmul, BatchedFourDims) {
  tg::Tensor a = make({2, 3, 7, 5}, 33), b = make({2, 3, 5, 4}, 34);
  tg::Tensor c = tg::matmul(a, b);
  ASSERT_EQ(c.shape(), (tg::Shape{2, 3, 7, 4}));
  for (int64_t i = 0; i < 6; ++i)
    expect_product(c.data() + i * 28, naive(a.data() + i * 35, b.data() + i * 20, 7, 5, 4, false, false), 5,
                   "batch " + std::to_string(i));
}

TEST(Matmul, BatchedLarge) {
  // Each batch big enough for its own GEMM to matter; batches run in parallel.
  tg::Tensor a = make({4, 100, 80}, 35), b = make({4, 80, 90}, 36);
  tg::Tensor c = tg::matmul(a, b);
  ASSERT_EQ(c.shape(), (tg::Shape{4, 100, 90}));
  for (int64_t i = 0; i < 4; ++i)
    expect_product(c.data() + i * 9000, naive(a.data() + i * 8000, b.data() + i * 7200, 100, 80, 90, false, false), 80,
                   "batch " + std::to_string(i));
}

TEST(Matmul, BatchedWithSharedRhs) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      SCOPED_TRACE("ta=" + std::to_string(ta) + " tb=" + std::to_string(tb));
      const int64_t m = 4, k = 5, n = 6;
      tg::Tensor a = ta ? make({2, 3, k, m}, 41) : make({2, 3, m, k}, 41);
      tg::Tensor b = tb ? make({n, k}, 42) : make({k, n}, 42);
      tg::Tensor c = tg::matmul(a, b, ta, tb);
      ASSERT_EQ(c.shape(), (tg::Shape{2, 3, m, n}));
      for (int64_t i = 0; i < 6; ++i)
        expect_product(c.data() + i * m * n, naive(a.data() + i * m * k, b.data(), m, k, n, ta, tb), k,
                       "batch " + std::to_string(i));
    }
  // Large shared rhs: the batch folds into one big parallel GEMM.
  tg::Tensor a = make({8, 50, 64}, 43), b = make({64, 120}, 44);
  tg::Tensor c = tg::matmul(a, b);
  ASSERT_EQ(c.shape(), (tg::Shape{8, 50, 120}));
  for (int64_t i = 0; i < 8; ++i)
    expect_product(c.data() + i * 6000, naive(a.data() + i * 3200, b.data(), 50, 64, 120, false, false), 64,
                   "batch " + std::to_string(i));
}

TEST(Matmul, SingleBatch) {
  tg::Tensor a = make({1, 6, 3}, 45), b = make({1, 3, 2}, 46);
  tg::Tensor c = tg::matmul(a, b);
  ASSERT_EQ(c.shape(), (tg::Shape{1, 6, 2}));
  expect_product(c.data(), naive(a.data(), b.data(), 6, 3, 2, false, false), 3, "batch 0");
  tg::Tensor at = make({1, 3, 6}, 47);
  tg::Tensor ct = tg::matmul(at, b, true, false);
  ASSERT_EQ(ct.shape(), (tg::Shape{1, 6, 2}));
  expect_product(ct.data(), naive(at.data(), b.data(), 6, 3, 2, true, false), 3, "transposed batch 0");
}

TEST(Matmul, InputsUnchanged) {
  tg::Tensor a = make({5, 4}, 48), b = make({4, 3}, 49);
  const auto av = a.to_vector(), bv = b.to_vector();
  tg::Tensor c = tg::matmul(a, b, false, false);
  EXPECT_EQ(a.to_vector(), av);
  EXPECT_EQ(b.to_vector(), bv);
  EXPECT_FALSE(c.shares_storage(a));
}

TEST(Matmul, InnerDimensionMismatch) {
  tg::Tensor a = tg::Tensor::zeros({2, 3}), b = tg::Tensor::zeros({4, 5});
  EXPECT_TG_ERROR(tg::matmul(a, b), "matmul", "(2, 3)", "(4, 5)", "3", "4");
  EXPECT_TG_ERROR(tg::matmul(a, tg::Tensor::zeros({2, 3}), false, false), "matmul", "(2, 3)");
  // With transposes the inner dims are taken from the transposed operands.
  EXPECT_TG_ERROR(tg::matmul(a, tg::Tensor::zeros({3, 5}), true, false), "matmul", "(2, 3)", "(3, 5)", "transposed");
  EXPECT_TG_ERROR(tg::matmul(a, tg::Tensor::zeros({3, 5}), false, true), "matmul", "(2, 3)", "(3, 5)", "transposed");
  EXPECT_NO_THROW(tg::matmul(a, tg::Tensor::zeros({5, 3}), false, true));
  EXPECT_NO_THROW(tg::matmul(a, tg::Tensor::zeros({2, 5}), true, false));
  EXPECT_TG_ERROR(tg::matmul(tg::Tensor::zeros({3, 2, 3}), tg::Tensor::zeros({3, 4, 5})), "matmul", "(3, 2, 3)",
                  "(3, 4, 5)");
}

TEST(Matmul, BatchDimsMismatch) {
  EXPECT_TG_ERROR(tg::matmul(tg::Tensor::zeros({3, 2, 4}), tg::Tensor::zeros({2, 4, 5})), "matmul", "(3, 2, 4)",
                  "(2, 4, 5)", "batch");
  EXPECT_TG_ERROR(tg::matmul(tg::Tensor::zeros({2, 3, 2, 4}), tg::Tensor::zeros({3, 2, 4, 5})), "matmul",
                  "(2, 3, 2, 4)", "(3, 2, 4, 5)", "batch");
  EXPECT_TG_ERROR(tg::matmul(tg::Tensor::zeros({2, 4}), tg::Tensor::zeros({3, 4, 5})), "matmul", "(2, 4)",
                  "(3, 4, 5)", "batch");
}

TEST(Matmul, RankOneInput) {
  EXPECT_TG_ERROR(tg::matmul(tg::Tensor::zeros({3}), tg::Tensor::zeros({3, 4})), "matmul", "(3,)", "(3, 4)", "2 dims");
  EXPECT_TG_ERROR(tg::matmul(tg::Tensor::zeros({2, 3}), tg::Tensor::zeros({3})), "matmul", "(2, 3)", "(3,)", "2 dims");
  EXPECT_TG_ERROR(tg::matmul(tg::Tensor::scalar(1.0f), tg::Tensor::zeros({1, 1})), "matmul", "()", "(1, 1)");
  EXPECT_TG_ERROR(tg::matmul(tg::Tensor(), tg::Tensor::zeros({1, 1})), "matmul", "undefined");
}

TEST(Matmul, ThreadCountDoesNotChangeBits) {
  const int saved = tg::num_threads();
  tg::Tensor a = make({512, 384}, 51), b = make({384, 256}, 52);
  tg::set_num_threads(1);
  tg::Tensor c1 = tg::matmul(a, b);
  tg::set_num_threads(2);
  tg::Tensor c2 = tg::matmul(a, b);
  // The column-block path and a transposed, batched product too.
  tg::Tensor p = make({40, 300}, 53), q = make({500, 300}, 54);
  tg::set_num_threads(1);
  tg::Tensor d1 = tg::matmul(p, q, false, true);
  tg::Tensor e1 = tg::matmul(make({6, 70, 90}, 55), make({6, 70, 80}, 56), true, false);
  tg::set_num_threads(2);
  tg::Tensor d2 = tg::matmul(p, q, false, true);
  tg::Tensor e2 = tg::matmul(make({6, 70, 90}, 55), make({6, 70, 80}, 56), true, false);
  tg::set_num_threads(saved);
  ASSERT_EQ(c1.shape(), (tg::Shape{512, 256}));
  EXPECT_EQ(0, std::memcmp(c1.data(), c2.data(), sizeof(float) * c1.numel()));
  EXPECT_EQ(0, std::memcmp(d1.data(), d2.data(), sizeof(float) * d1.numel()));
  EXPECT_EQ(0, std::memcmp(e1.data(), e2.data(), sizeof(float) * e1.numel()));
  // And it is the right product.
  expect_product(c1.data(), naive(a.data(), b.data(), 512, 384, 256, false, false), 384, "512x384x256");
  EXPECT_EQ(tg::num_threads(), saved);
}
