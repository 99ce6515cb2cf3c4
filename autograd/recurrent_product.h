#pragma once
// Internal (not installed): the recurrent product of one time step, h_prev · U (or dZ · U^T in
// the backward), for loops that run it a block of columns at a time on their own TBB tasks.
// The matrix is packed once per sequence into panels of 32 columns (k rows of 32 contiguous
// floats each), so that every step's product streams its panel in order and reads the rows of A
// where they lie: no per-step packing of either operand (a general GEMM packs both per call:
// at LSTM sizes, 64 x 256 times 256 x 32, that was a third of each call). Each output is summed
// over k in order, whatever the blocks and threads. With AVX-512, on conv_tile's register tiles;
// without, through core/gemm.h on the matrix as it lies.
#include <cstdint>
#include <vector>

#include "core/aligned_vector.h"

namespace tapegrad::recurrent {

class PanelMatrix {
 public:
  static constexpr int64_t kPanel = 32;  // columns per panel

  // op(B) (k x segments * width), B stored row-major with row stride ldb (transposed: op(B) =
  // B^T). Its columns go by segments of `width` (an LSTM's four gates of `units` columns), each
  // cut into panels of kPanel columns, the last one narrower when width is not a multiple.
  PanelMatrix(const float* b, int64_t ldb, bool transposed, int64_t k, int64_t segments, int64_t width);

  // C (m x panel width) (+)= A (m x k) · op(B)'s columns of panel `panel` of segment `segment`
  // (columns segment * width + panel * kPanel, ...); row i of A at a + i * lda, of C at
  // c + i * ldc (c points at the panel's first column).
  void multiply(const float* a, int64_t lda, int64_t m, int64_t segment, int64_t panel, float* c, int64_t ldc,
                bool accumulate) const;

 private:
  const float* b_;
  int64_t ldb_;
  bool transposed_;
  int64_t k_, segments_, width_, panels_per_segment_;
  AlignedVector<float> packed_;  // [segment][panel][k][kPanel], zero past the width
};

}  // namespace tapegrad::recurrent
