// locally_connected: a convolution whose weights differ at every output position (Keras'
// LocallyConnected1D/2D, implementation 1). Per output position p: y[:, p] = patches[:, p] · w[p].
// Valid padding only, as in Keras.
#include <vector>

#include "tapegrad/autograd/conv.h"
#include "autograd/conv_engine.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/error.h"
#include "core/gemm.h"
#include "tapegrad/core/parallel.h"

namespace tapegrad {

namespace {

// All samples' patches: (batch, out_positions, kernel_positions * c_in).
Tensor patches(const Tensor& x, const ConvGeometry& g) {
  const int64_t kc = g.kernel_positions() * g.c_in;
  Tensor col = Tensor::empty({g.batch, g.out_positions(), kc});
  const int64_t in_size = g.in_positions() * g.c_in, col_size = g.out_positions() * kc;
  parallel_for(0, g.batch, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) conv_engine::im2col(x.data() + b * in_size, g, col.data() + b * col_size);
  });
  return col;
}

}  // namespace

Variable locally_connected(const Variable& x, const Variable& w, const std::vector<int64_t>& kernel,
                           const std::vector<int64_t>& strides) {
  const char* op = "locally_connected";
  const ConvGeometry g = conv_geometry(op, x.shape(), kernel, w.rank() == 3 ? w.dim(2) : 0, {.strides = strides});
  const int64_t positions = g.out_positions(), kc = g.kernel_positions() * g.c_in, f = g.c_out;
  if (w.shape() != Shape({positions, kc, f}))
    fail(op, "kernel " + w.shape().str() + " must be (output positions, window * input channels, filters) = (" +
                 std::to_string(positions) + ", " + std::to_string(kc) + ", " + std::to_string(f) + ") for input " +
                 x.shape().str());
  const Tensor col = patches(x.value(), g), wv = w.value();
  Tensor y = Tensor::empty(g.output_shape(f));
  const int64_t batch = g.batch;
  // Row b of position p sits at col[b, p, :]: a strided (batch x kc) matrix with row stride positions * kc.
  parallel_for(0, positions, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p)
      gemm({col.data() + p * kc, positions * kc}, {wv.data() + p * kc * f, f}, y.data() + p * f, positions * f, batch, kc, f);
  });
  return record(op, y, {x, w}, [col, wv, g, positions, kc, f, batch](const Tensor& dy, GradSink& s) {
    if (s.needs(0)) {
      Tensor dcol = Tensor::empty(col.shape());
      parallel_for(0, positions, 1, [&](int64_t p0, int64_t p1) {
        for (int64_t p = p0; p < p1; ++p)
          gemm({dy.data() + p * f, positions * f}, {wv.data() + p * kc * f, f, true}, dcol.data() + p * kc, positions * kc,
               batch, f, kc);
      });
      Tensor dx = Tensor::zeros(g.input_shape());
      const int64_t in_size = g.in_positions() * g.c_in, col_size = positions * kc;
      parallel_for(0, batch, 1, [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) conv_engine::col2im_add(dcol.data() + b * col_size, g, dx.data() + b * in_size);
      });
      s.set(0, dx);
    }
    if (s.needs(1)) {
      Tensor dw = Tensor::empty(wv.shape());
      parallel_for(0, positions, 1, [&](int64_t p0, int64_t p1) {
        for (int64_t p = p0; p < p1; ++p)
          gemm({col.data() + p * kc, positions * kc, true}, {dy.data() + p * f, positions * f}, dw.data() + p * kc * f, f,
               kc, batch, f);
      });
      s.set(1, dw);
    }
  });
}

}  // namespace tapegrad
