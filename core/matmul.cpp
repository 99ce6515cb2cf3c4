// Matrix multiplication through Eigen's GEMM over our own buffers (Eigen::Map, no copies).
// Parallelism comes from TBB, not Eigen: the output is cut into blocks whose size depends only
// on the problem's shape, and each block is one single-threaded Eigen GEMM. Since the cut never
// depends on the number of threads, neither do the results.
#include <Eigen/Core>
#include <algorithm>
#include <string>

#include "tapegrad/core/error.h"
#include "core/gemm.h"
#include "core/gemm_bf16.h"
#include "tapegrad/core/parallel.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad {

namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const RowMatrix>;
using Map = Eigen::Map<RowMatrix>;

constexpr double kSerialFlops = 2.0 * 64 * 64 * 64;  // below this, one GEMM call on one thread
constexpr int64_t kMinBlock = 32;

// Rows (or columns) per block: about 8 blocks, at least kMinBlock, a multiple of 16.
int64_t block_extent(int64_t n) {
  int64_t b = (n + 7) / 8;
  b = (b + 15) / 16 * 16;
  return std::max(b, kMinBlock);
}

// One (m x k) * (k x n) product. `a` is stored (m, k), or (k, m) when trans_a; likewise b.
template <bool TA, bool TB>
void gemm(const float* a, const float* b, float* c, int64_t m, int64_t k, int64_t n, bool parallel) {
  ConstMap a_store(a, TA ? k : m, TA ? m : k);
  ConstMap b_store(b, TB ? n : k, TB ? k : n);
  Map out(c, m, n);
  auto A = [&]() { if constexpr (TA) return a_store.transpose(); else return a_store; }();
  auto B = [&]() { if constexpr (TB) return b_store.transpose(); else return b_store; }();
  if (k == 0) {
    out.setZero();
    return;
  }
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  if (!parallel || flops < kSerialFlops || (m < 2 * kMinBlock && n < 2 * kMinBlock)) {
    out.noalias() = A * B;
    return;
  }
  // Each block repacks the whole of the other operand: cut the dimension whose other operand is
  // the smaller one (rows repack b, k x n; columns repack a, m x k).
  if (m >= n || n < 2 * kMinBlock) {
    const int64_t rows = block_extent(m);
    parallel_chunks(m, rows, [&](int64_t, int64_t r0, int64_t r1) {
      out.middleRows(r0, r1 - r0).noalias() = A.middleRows(r0, r1 - r0) * B;
    });
  } else {
    const int64_t cols = block_extent(n);
    parallel_chunks(n, cols, [&](int64_t, int64_t c0, int64_t c1) {
      out.middleCols(c0, c1 - c0).noalias() = A * B.middleCols(c0, c1 - c0);
    });
  }
}

void gemm_dispatch(bool ta, bool tb, const float* a, const float* b, float* c, int64_t m, int64_t k, int64_t n,
                   bool parallel) {
  if (!ta && !tb) gemm<false, false>(a, b, c, m, k, n, parallel);
  if (!ta && tb) gemm<false, true>(a, b, c, m, k, n, parallel);
  if (ta && !tb) gemm<true, false>(a, b, c, m, k, n, parallel);
  if (ta && tb) gemm<true, true>(a, b, c, m, k, n, parallel);
}

[[noreturn]] void shape_error(const Tensor& a, const Tensor& b, bool ta, bool tb, const std::string& why) {
  fail("matmul", "a " + a.shape().str() + (ta ? " (transposed)" : "") + " and b " + b.shape().str() +
                     (tb ? " (transposed)" : "") + ": " + why);
}

template <bool TA, bool TB>
void strided_gemm(GemmOperand a, GemmOperand b, float* c, int64_t ldc, int64_t m, int64_t k, int64_t n, bool accumulate) {
  using Stride = Eigen::OuterStride<>;
  using ConstStrided = Eigen::Map<const RowMatrix, 0, Stride>;
  ConstStrided a_store(a.data, TA ? k : m, TA ? m : k, Stride(a.ld));
  ConstStrided b_store(b.data, TB ? n : k, TB ? k : n, Stride(b.ld));
  Eigen::Map<RowMatrix, 0, Stride> out(c, m, n, Stride(ldc));
  auto A = [&]() { if constexpr (TA) return a_store.transpose(); else return a_store; }();
  auto B = [&]() { if constexpr (TB) return b_store.transpose(); else return b_store; }();
  if (accumulate)
    out.noalias() += A * B;
  else
    out.noalias() = A * B;
}

}  // namespace

void gemm(GemmOperand a, GemmOperand b, float* c, int64_t ldc, int64_t m, int64_t k, int64_t n, bool accumulate) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate)
      for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return;
  }
  if (!a.transposed && !b.transposed) strided_gemm<false, false>(a, b, c, ldc, m, k, n, accumulate);
  if (!a.transposed && b.transposed) strided_gemm<false, true>(a, b, c, ldc, m, k, n, accumulate);
  if (a.transposed && !b.transposed) strided_gemm<true, false>(a, b, c, ldc, m, k, n, accumulate);
  if (a.transposed && b.transposed) strided_gemm<true, true>(a, b, c, ldc, m, k, n, accumulate);
}

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b, Dtype compute) {
  if (!a.defined() || !b.defined()) fail("matmul", "input tensor is undefined");
  if (a.rank() < 2 || b.rank() < 2) shape_error(a, b, trans_a, trans_b, "both need at least 2 dims");
  const int ra = a.rank(), rb = b.rank();
  const int64_t m = trans_a ? a.shape()[ra - 1] : a.shape()[ra - 2];
  const int64_t k = trans_a ? a.shape()[ra - 2] : a.shape()[ra - 1];
  const int64_t kb = trans_b ? b.shape()[rb - 1] : b.shape()[rb - 2];
  const int64_t n = trans_b ? b.shape()[rb - 2] : b.shape()[rb - 1];
  if (k != kb)
    shape_error(a, b, trans_a, trans_b, "inner dimensions " + std::to_string(k) + " and " + std::to_string(kb) + " differ");

  const Shape batch_a = a.shape().drop(ra - 2, ra);
  const Shape batch_b = b.shape().drop(rb - 2, rb);
  if (rb > 2 && batch_a != batch_b)
    shape_error(a, b, trans_a, trans_b, "batch dims " + batch_a.str() + " and " + batch_b.str() + " differ");
  Shape out_shape = batch_a;
  out_shape.push_back(m);
  out_shape.push_back(n);
  Tensor out = Tensor::empty(out_shape);
  if (out.numel() == 0) return out;

  const int64_t batch = batch_a.numel();
  if (compute == Dtype::bfloat16) {
    matmul_bf16(a.data(), b.data(), out.data(), batch, m, k, n, trans_a, trans_b, rb == 2);
    return out;
  }
  if (batch == 1 || (rb == 2 && !trans_a)) {
    // A shared 2-D right-hand side: fold the batch into the rows, one large GEMM.
    gemm_dispatch(trans_a, trans_b, a.data(), b.data(), out.data(), batch * m, k, n, true);
    return out;
  }
  const int64_t stride_b = rb == 2 ? 0 : k * n;
  const float* pa = a.data();
  const float* pb = b.data();
  float* pc = out.data();
  parallel_for(0, batch, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i)
      gemm_dispatch(trans_a, trans_b, pa + i * m * k, pb + i * stride_b, pc + i * m * n, m, k, n, false);
  });
  return out;
}

}  // namespace tapegrad
