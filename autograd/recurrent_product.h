#pragma once
// Internal (not installed): the recurrent product of one time step, h_prev · U (or dZ · U^T in
// the backward), for loops that run it a block of columns at a time on their own TBB tasks.
// The matrix is packed once per sequence into panels of 32 columns (k rows of 32 contiguous
// floats each), so that every step's product streams its panel in order and reads the rows of A
// where they lie: no per-step packing of either operand (a general GEMM packs both per call:
// at LSTM sizes, 64 x 256 times 256 x 32, that was a third of each call). Each output is summed
// over k in order, whatever the blocks and threads. With AVX-512, on conv_tile's register tiles;
// without, through core/gemm.h on the matrix as it lies. In bfloat16 (mixed_bfloat16), each
// panel packed by pack_bf16_b and multiplied by gemm_bf16 (core/gemm_bf16.h) on the CPU's bf16
// ISA, A converted to bf16 once per step by the caller (to_bf16_rows).
#include <cstdint>
#include <vector>

#include "core/aligned_vector.h"
#include "core/gemm_bf16.h"
#include "tapegrad/core/dtype.h"

namespace tapegrad::recurrent {

class PanelMatrix {
 public:
  static constexpr int64_t kPanel = 32;  // columns per panel

  // op(B) (k x segments * width), B stored row-major with row stride ldb (transposed: op(B) =
  // B^T). Its columns go by segments of `width` (an LSTM's four gates of `units` columns), each
  // cut into panels of kPanel columns, the last one narrower when width is not a multiple.
  PanelMatrix(const float* b, int64_t ldb, bool transposed, int64_t k, int64_t segments, int64_t width,
              Dtype compute = Dtype::float32);

  // C (m x panel width) (+)= A (m x k) · op(B)'s columns of panel `panel` of segment `segment`
  // (columns segment * width + panel * kPanel, ...); row i of A at a + i * lda, of C at
  // c + i * ldc (c points at the panel's first column).
  void multiply(const float* a, int64_t lda, int64_t m, int64_t segment, int64_t panel, float* c, int64_t ldc,
                bool accumulate) const;

  // bfloat16: A's m rows (row i at a + i * lda) to bf16 in `out`, row stride bf16_row_stride(),
  // zero past k; then the same product from them.
  int64_t bf16_row_stride() const;
  void to_bf16_rows(const float* a, int64_t lda, int64_t m, AlignedVector<uint16_t>& out) const;
  void multiply(const uint16_t* a_bf16, int64_t m, int64_t segment, int64_t panel, float* c, int64_t ldc,
                bool accumulate) const;

 private:
  const float* b_;
  int64_t ldb_;
  bool transposed_;
  int64_t k_, segments_, width_, panels_per_segment_;
  AlignedVector<float> packed_;  // [segment][panel][k][kPanel], zero past the width
  std::vector<PackedBf16Matrix> bf16_panels_;  // [segment][panel], in bfloat16
  Bf16Isa isa_ = Bf16Isa::emulated;
};

}  // namespace tapegrad::recurrent
