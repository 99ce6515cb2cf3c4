#include "autograd/recurrent_product.h"

#include <algorithm>

#include "core/gemm.h"

#if defined(__AVX512F__)
#include "autograd/conv_tile_avx512.h"
#endif

namespace tapegrad::recurrent {

namespace {
constexpr bool kHasTiles =
#if defined(__AVX512F__)
    true;
#else
    false;
#endif
}  // namespace

PanelMatrix::PanelMatrix(const float* b, int64_t ldb, bool transposed, int64_t k, int64_t segments, int64_t width,
                         Dtype compute)
    : b_(b), ldb_(ldb), transposed_(transposed), k_(k), segments_(segments), width_(width),
      panels_per_segment_((width + kPanel - 1) / kPanel) {
  if (compute == Dtype::bfloat16) {
    isa_ = bf16_isa();
    for (int64_t q = 0; q < segments; ++q)
      for (int64_t p = 0; p < panels_per_segment_; ++p) {
        const int64_t col0 = q * width + p * kPanel, cols = std::min(kPanel, width - p * kPanel);
        const GemmOperand panel = transposed ? GemmOperand{b + col0 * ldb, ldb, true} : GemmOperand{b + col0, ldb};
        bf16_panels_.push_back(pack_bf16_b(panel, k, cols));
      }
    return;
  }
  if (!kHasTiles) return;  // the fallback multiplies B as it lies
  packed_.assign(static_cast<size_t>(segments * panels_per_segment_ * k * kPanel), 0.0f);
  for (int64_t q = 0; q < segments; ++q)
    for (int64_t p = 0; p < panels_per_segment_; ++p) {
      const int64_t col0 = q * width + p * kPanel, cols = std::min(kPanel, width - p * kPanel);
      float* panel = packed_.data() + (q * panels_per_segment_ + p) * k * kPanel;
      for (int64_t r = 0; r < k; ++r)
        for (int64_t j = 0; j < cols; ++j)
          panel[r * kPanel + j] = transposed ? b[(col0 + j) * ldb + r] : b[r * ldb + col0 + j];
    }
}

void PanelMatrix::multiply(const float* a, int64_t lda, int64_t m, int64_t segment, int64_t panel, float* c, int64_t ldc,
                           bool accumulate) const {
  const int64_t cols = std::min(kPanel, width_ - panel * kPanel);
  if (m <= 0 || cols <= 0) return;
#if defined(__AVX512F__)
  const int vectors = cols > 16 ? 2 : 1;
  const int64_t last = cols - 16 * (vectors - 1);
  const int max_rows = conv_tile::rows_for(vectors);
  const float* panel_data = packed_.data() + (segment * panels_per_segment_ + panel) * k_ * kPanel;
  const int64_t tap_offset = 0;
  float* rows[16];
  for (int64_t i0 = 0; i0 < m; i0 += max_rows) {
    const int tile_rows = static_cast<int>(std::min<int64_t>(max_rows, m - i0));
    for (int i = 0; i < tile_rows; ++i) rows[i] = c + (i0 + i) * ldc;
    conv_tile::Tile t{.a = a + i0 * lda,
                      .a_row = lda,
                      .a_step = 1,
                      .tap_offset = &tap_offset,
                      .tap_b = &panel_data,
                      .taps = 1,
                      .steps = k_,
                      .ldb = kPanel,
                      .c_rows = rows,
                      .last_mask = static_cast<__mmask16>(last >= 16 ? 0xFFFFu : (1u << last) - 1u),
                      .accumulate = accumulate,
                      .bias = nullptr,
                      .relu = false};
    conv_tile::run(t, tile_rows, vectors);
  }
#else
  const int64_t col0 = segment * width_ + panel * kPanel;
  const GemmOperand b = transposed_ ? GemmOperand{b_ + col0 * ldb_, ldb_, true} : GemmOperand{b_ + col0, ldb_};
  gemm({a, lda}, b, c, ldc, m, k_, cols, accumulate);
#endif
}

int64_t PanelMatrix::bf16_row_stride() const { return bf16_panels_.empty() ? 0 : bf16_panels_.front().k_padded; }

void PanelMatrix::to_bf16_rows(const float* a, int64_t lda, int64_t m, AlignedVector<uint16_t>& out) const {
  const int64_t ld = bf16_row_stride();
  out.resize(static_cast<size_t>(m * ld));
  for (int64_t i = 0; i < m; ++i) {
    convert_to_bf16(a + i * lda, k_, out.data() + i * ld);
    std::fill(out.data() + i * ld + k_, out.data() + (i + 1) * ld, uint16_t{0});
  }
}

void PanelMatrix::multiply(const uint16_t* a_bf16, int64_t m, int64_t segment, int64_t panel, float* c, int64_t ldc,
                           bool accumulate) const {
  const PackedBf16Matrix& b = bf16_panels_[static_cast<size_t>(segment * panels_per_segment_ + panel)];
  gemm_bf16(Bf16Rows{a_bf16, b.k_padded}, b, c, ldc, m, accumulate, isa_);
}

}  // namespace tapegrad::recurrent
