#pragma once
// Stride-1 convolutions in bfloat16 on AMX tiles, with no im2col: as the direct float32 kernel
// (conv_direct.h) does, the tiles' rows are consecutive linear positions of the input framed in
// zeros, so each kernel row is a constant offset and its (kw, c_in) run is read straight from
// the (bf16) input; the kernel is packed once. Serves the forward and, through
// conv_direct::input_gradient_geometry, the input gradient. Needs c_in a multiple of 16 (a
// kernel row's run is then whole 32- and 16-element steps of the tile unit).
#include <cstdint>

#include "autograd/conv_direct.h"
#include "core/gemm_bf16.h"

namespace tapegrad::conv_amx {

// True when AMX is usable and g is stride 1, dilation 1, c_in % 16 == 0 and the direct kernel's
// framing serves it.
bool supports(const ConvGeometry& g);

// y (samples, out positions, c_out) = x * w for `samples` consecutive samples, + bias, relu;
// `w` is the kernel matrix (kernel positions * c_in, c_out) packed by pack_bf16_b.
// With accumulate, y += x * w instead (an input gradient added into one already summed).
void forward_samples(const conv_direct::Plan& plan, int64_t samples, const float* x, const PackedBf16Matrix& w,
                     const float* bias, bool relu, float* y, bool accumulate = false);

// The forward of a strided convolution (any stride above 1 in some dim, dilation 1, c_in a
// multiple of 16): per output row, up to 16 outputs as the rows of a tile, their windows
// stride * c_in apart in the framed bf16 input; each kernel row's (kw, c_in) run as tile steps.
bool supports_strided(const ConvGeometry& g);
void forward_strided_samples(const ConvGeometry& g, int64_t samples, const float* x, const PackedBf16Matrix& w,
                             const float* bias, bool relu, float* y);

// dw^T (c_out, kernel positions * c_in) += the kernel gradient of `samples` consecutive samples,
// for geometries supports() takes with c_out % 16 == 0 as well: per kernel position, 16 x 16
// tiles of dw^T = dy^T (output channels x linear rows: the output gradient transposed per
// plane, zero on the rows that are not outputs) times the input at the tap's offset from those
// rows (pairs of positions interleaved, one copy per parity of the offset).
bool supports_weight_gradient(const ConvGeometry& g);
void add_weight_gradient_samples(const conv_direct::Plan& plan, int64_t samples, const float* x, const float* dy, float* dw_t);

}  // namespace tapegrad::conv_amx
