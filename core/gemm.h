#pragma once
// Single-threaded GEMM on raw row-major buffers, for kernels that run it per chunk of a batch
// on their own TBB tasks (convolutions). C = A·B (or C += A·B with accumulate). Leading
// dimensions allow strided row blocks. Eigen stays inside core/matmul.cpp.
#include <cstdint>

namespace tapegrad {

struct GemmOperand {
  const float* data;
  int64_t ld;  // row stride of the stored matrix, in elements
  bool transposed = false;  // use the transpose of the stored matrix
};

// C (m x n, row stride ldc) = op(A) (m x k) · op(B) (k x n), or += when accumulate.
void gemm(GemmOperand a, GemmOperand b, float* c, int64_t ldc, int64_t m, int64_t k, int64_t n, bool accumulate = false);

}  // namespace tapegrad
