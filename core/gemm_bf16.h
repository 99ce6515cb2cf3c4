#pragma once
// Single-threaded bf16 GEMM with float32 accumulation, for kernels that run it per chunk of a
// batch on their own TBB tasks: C = bf16(op(A)) · bf16(op(B)) (or C += ...), both operands
// rounded to bfloat16 (to_bf16) as they are packed, every product and sum in float32. Three
// kernels, one per Bf16Isa, which differ only in the order of their float32 sums:
//   avx512_bf16: per pair of k in order: += a[2p+1] b[2p+1], then += a[2p] b[2p] (VDPBF16PS,
//                bit for bit as Intel documents it);
//   amx:         TDPBF16PS over 32 k at a time, in the tile unit's own internal order (not
//                the documented pairwise one: measured, it differs in the last bit);
//   emulated:    float32 GEMM (Eigen) on the rounded operands, in its own order.
// The amx and avx512_bf16 kernels start from zero and add C's old value last when accumulating.
// Internal: Eigen and the intrinsics stay in core/gemm_bf16.cpp.
#include <cstdint>
#include <vector>

#include "core/aligned_vector.h"
#include "core/gemm.h"
#include "tapegrad/core/bf16.h"

namespace tapegrad {

// op(B) (k x n) in bf16, laid out for the kernels: blocks of 16 columns, each the k pairs of
// rows interleaved (the "VNNI" layout both VDPBF16PS and TDPBF16PS read), k padded with zero
// rows to a multiple of 32 and n with zero columns to a multiple of 16. Pack once, multiply many.
struct PackedBf16Matrix {
  int64_t k = 0, n = 0, k_padded = 0, n_padded = 0;
  AlignedVector<uint16_t> data;  // [n_padded / 16][k_padded / 2][16][2], tile loads read whole lines
};
PackedBf16Matrix pack_bf16_b(GemmOperand b, int64_t k, int64_t n);
// The same from k row pointers of n floats each (a null row is a row of zeros), into `packed`,
// whose storage is reused: for kernels that pack once per sample.
void pack_bf16_b_rows(const float* const* rows, int64_t k, int64_t n, PackedBf16Matrix& packed);

// C (m x n, row stride ldc) = bf16(op(A)) (m x k) · B, or += when accumulate; b.k == k.
void gemm_bf16(GemmOperand a, const PackedBf16Matrix& b, float* c, int64_t ldc, int64_t m, bool accumulate, Bf16Isa isa);

// A already in bf16: m rows of row stride ld (elements, at least b.k_padded), each zero from b.k
// to b.k_padded. What producers that write bf16 directly (im2col) hand over.
struct Bf16Rows {
  const uint16_t* data;
  int64_t ld;
};
void gemm_bf16(Bf16Rows a, const PackedBf16Matrix& b, float* c, int64_t ldc, int64_t m, bool accumulate, Bf16Isa isa);

// n floats to bf16 (as to_bf16), with VCVTNE2PS2BF16 where the CPU has it.
void convert_to_bf16(const float* src, int64_t n, uint16_t* dst);
// n floats rounded to bf16 and back (as round_to_bf16), with VCVTNEPS2BF16 where the CPU has it:
// the operands of a float32 kernel that computes what bf16 does.
void round_to_bf16(const float* src, int64_t n, float* dst);

// C[i] = bf16(op(A[i])) · bf16(op(B[i])) for i < batch, (m x k) · (k x n) each, B shared by all
// when shared_b; on the ISA bf16_isa() chooses. Parallel over blocks of rows fixed by the shape
// (each row's sums do not depend on the blocks), for tensor-level matmul.
void matmul_bf16(const float* a, const float* b, float* c, int64_t batch, int64_t m, int64_t k, int64_t n, bool trans_a,
                 bool trans_b, bool shared_b);

}  // namespace tapegrad
