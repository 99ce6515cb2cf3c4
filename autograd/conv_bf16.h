#pragma once
// Convolutions computed in bfloat16 (mixed_bfloat16): every geometry through im2col and the
// bf16 GEMM (core/gemm_bf16.h) on the best instruction set this CPU has, float32 accumulation.
//   forward:  y = bf16(patches) · bf16(w), + bias, relu
//   dw:       dw^T = bf16(dy)^T · bf16(patches) per chunk (dy is the smaller matrix to transpose),
//             chunks added in order, then transposed
//   dx:       dpatches = bf16(dy) · bf16(w)^T, scattered back (col2im)
// Chunks of samples fixed by the geometry, so results do not depend on the thread count.
#include "autograd/conv_engine.h"

namespace tapegrad::conv_bf16 {

Tensor forward(const Tensor& x, const Tensor& w, const ConvGeometry& g, const conv_engine::Epilogue& epilogue);
conv_engine::Gradients backward(const Tensor& x, const Tensor& w, const Tensor& dy, const ConvGeometry& g,
                                const conv_engine::BackwardRequest& want);

}  // namespace tapegrad::conv_bf16
