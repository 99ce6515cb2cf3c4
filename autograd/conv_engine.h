#pragma once
// The products of a convolution, on Tensors, shared by conv and conv_transpose: forward
// y = x * w, and the input, kernel and bias gradients (the input gradient is also the transposed
// convolution's forward). Stride-1 geometries go to the direct or Winograd kernels
// (conv_direct.h, conv_winograd.h), strided ones without dilation to the strided direct kernels
// (conv_strided.h), the rest to im2col + GEMM. Parallel over chunks of the batch
// whose size depends only on the geometry, kernel gradients reduced chunk by chunk in order (the
// Winograd kernel gradient runs its own pass, parallel over its a^2 GEMMs): results do not
// depend on the number of threads.
#include "tapegrad/autograd/conv_geometry.h"
#include "tapegrad/core/dtype.h"
#include "tapegrad/core/tensor.h"

namespace tapegrad::conv_engine {

// What the forward pass applies to each chunk right after its GEMM, while it is in cache.
struct Epilogue {
  const float* bias = nullptr;  // c_out values added to every output position
  bool relu = false;
};

// x (batch, *in, c_in), w (*kernel, c_in, c_out) -> (batch, *out, c_out). compute bfloat16:
// through autograd/conv_bf16.h.
Tensor forward(const Tensor& x, const Tensor& w, const ConvGeometry& g, const Epilogue& epilogue = {},
               Dtype compute = Dtype::float32);

struct BackwardRequest {
  bool dx = false, dw = false, db = false;
  const Tensor* relu_output = nullptr;  // the forward's output when it fused a relu
  Dtype compute = Dtype::float32;
  // With dx: add the input gradient into this input-shaped tensor as it is written, instead of
  // returning it (Gradients::dx stays undefined). Only where adds_input_gradient(g, compute).
  Tensor* dx_into = nullptr;
};
struct Gradients {
  Tensor dx, dw, db;
};
// The requested gradients in one pass over the batch: each chunk's patches are built once, the
// fused relu's mask and the bias sums are applied chunk by chunk. x is only read for dw (it may
// be undefined otherwise).
Gradients backward(const Tensor& x, const Tensor& w, const Tensor& dy, const ConvGeometry& g, const BackwardRequest& want);
// Whether backward can add the input gradient into a tensor (every path but the float32 strided
// kernels, whose input gradient writes each position once by phases).
bool adds_input_gradient(const ConvGeometry& g, Dtype compute);

// The patches of one sample: row p (output position), column (kernel position, channel); zero
// where the window hangs over the padding. `col` holds out_positions * kernel_positions * c_in.
void im2col(const float* x, const ConvGeometry& g, float* col);
// Adds the columns back onto the sample's input positions (the adjoint of im2col).
void col2im_add(const float* col, const ConvGeometry& g, float* x);

// The backward's elementwise passes: out = dy where the fused relu's output y is positive, else
// 0; sums[c] += the column sums of m (rows x cols).
void relu_gradient(const float* dy, const float* y, int64_t n, float* out);
void add_column_sums(const float* m, int64_t rows, int64_t cols, float* sums);

}  // namespace tapegrad::conv_engine
