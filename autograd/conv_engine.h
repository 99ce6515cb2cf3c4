#pragma once
// The three products of a convolution, on Tensors, shared by conv, conv_transpose and the
// separable layers: forward y = x * w, the input gradient (also the transposed convolution's
// forward) and the kernel gradient. im2col + GEMM, parallel over chunks of the batch whose size
// depends only on the geometry, kernel gradients reduced chunk by chunk in order: results do
// not depend on the number of threads.
#include "autograd/conv_geometry.h"
#include "core/tensor.h"

namespace tapegrad::conv_engine {

// x (batch, *in, c_in), w (*kernel, c_in, c_out) -> (batch, *out, c_out)
Tensor forward(const Tensor& x, const Tensor& w, const ConvGeometry& g);
// dy (batch, *out, c_out), w -> dx (batch, *in, c_in)
Tensor backward_data(const Tensor& dy, const Tensor& w, const ConvGeometry& g);
// x, dy -> dw (*kernel, c_in, c_out)
Tensor backward_weights(const Tensor& x, const Tensor& dy, const ConvGeometry& g, const Shape& w_shape);
// Both gradients in one pass over the batch, so each chunk's patches are built once: dx (when
// want_dx) and dw.
void backward(const Tensor& x, const Tensor& w, const Tensor& dy, const ConvGeometry& g, bool want_dx, Tensor* dx, Tensor* dw);

// The patches of one sample: row p (output position), column (kernel position, channel); zero
// where the window hangs over the padding. `col` holds out_positions * kernel_positions * c_in.
void im2col(const float* x, const ConvGeometry& g, float* col);
// Adds the columns back onto the sample's input positions (the adjoint of im2col).
void col2im_add(const float* col, const ConvGeometry& g, float* x);

}  // namespace tapegrad::conv_engine
