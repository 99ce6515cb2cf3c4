#pragma once
// Convolutions computed in bfloat16 (mixed_bfloat16): every geometry through im2col and the
// bf16 GEMM (core/gemm_bf16.h) on the best instruction set this CPU has, float32 accumulation.
//   forward:  y = bf16(patches) · bf16(w), + bias, relu
//   dw:       dw^T = bf16(dy)^T · bf16(patches) per chunk (dy is the smaller matrix to transpose),
//             chunks added in order, then transposed
//   dx:       dpatches = bf16(dy) · bf16(w)^T, scattered back (col2im)
// Chunks of samples fixed by the geometry, so results do not depend on the thread count.
// Where a float32 kernel is faster, a convolution runs as that kernel on the bf16-rounded
// operands (x, w, dy), which computes what bf16 with float32 accumulation does (the emulation's
// definition) in another order: on the emulation always, and on AVX512-BF16 without AMX for the
// geometries Winograd serves (3x3, stride 1: 2.25-4x fewer multiplies beat VDPBF16PS's 2x the
// float32 rate) and the direct and strided ones with a small GEMM (no patches to build), and on
// AMX for the small-GEMM geometries whose c_in its kernels cannot take (a first convolution over
// 3 channels). The bias gradient is a sum, of dy as it is, on every path.
#include "autograd/conv_engine.h"
#include "tapegrad/core/bf16.h"

namespace tapegrad::conv_bf16 {

// Whether g runs as float32 kernels on the rounded operands on `isa` (above); the profiler names
// such convolutions "conv_bf16_as_fp32".
bool runs_as_rounded_float32(const ConvGeometry& g, Bf16Isa isa);

Tensor forward(const Tensor& x, const Tensor& w, const ConvGeometry& g, const conv_engine::Epilogue& epilogue);
conv_engine::Gradients backward(const Tensor& x, const Tensor& w, const Tensor& dy, const ConvGeometry& g,
                                const conv_engine::BackwardRequest& want);

}  // namespace tapegrad::conv_bf16
