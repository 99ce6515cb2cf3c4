#include "autograd/conv_engine.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/gemm.h"
#include "core/parallel.h"

namespace tapegrad::conv_engine {

namespace {

// Samples per task: enough rows (samples x output positions) to keep the GEMM efficient, few
// enough that the patch buffer stays in cache. Depends only on the geometry.
int64_t samples_per_chunk(const ConvGeometry& g) {
  constexpr int64_t kTargetRows = 1024;
  return std::max<int64_t>(1, kTargetRows / std::max<int64_t>(1, g.out_positions()));
}

// A per-thread scratch buffer, reused across calls so steady-state training does not allocate.
float* scratch(size_t n) {
  thread_local std::vector<float> buffer;
  if (buffer.size() < n) buffer.resize(n);
  return buffer.data();
}

// Calls f(out_position, kernel_position, input_offset_or_minus_1) for every window element.
template <class F>
inline void for_each_tap(const ConvGeometry& g, F f) {
  int64_t p = 0;
  for (int64_t od = 0; od < g.out[0]; ++od)
    for (int64_t oh = 0; oh < g.out[1]; ++oh)
      for (int64_t ow = 0; ow < g.out[2]; ++ow, ++p) {
        int64_t k = 0;
        for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
          const int64_t id = od * g.stride[0] - g.pad_before[0] + kd * g.dilation[0];
          const bool d_ok = id >= 0 && id < g.in[0];
          for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
            const int64_t ih = oh * g.stride[1] - g.pad_before[1] + kh * g.dilation[1];
            const bool h_ok = d_ok && ih >= 0 && ih < g.in[1];
            for (int64_t kw = 0; kw < g.kernel[2]; ++kw, ++k) {
              const int64_t iw = ow * g.stride[2] - g.pad_before[2] + kw * g.dilation[2];
              const bool ok = h_ok && iw >= 0 && iw < g.in[2];
              f(p, k, ok ? (id * g.in[1] + ih) * g.in[2] + iw : -1);
            }
          }
        }
      }
}

}  // namespace

void im2col(const float* x, const ConvGeometry& g, float* col) {
  const int64_t c = g.c_in, row = g.kernel_positions() * c;
  for_each_tap(g, [&](int64_t p, int64_t k, int64_t in) {
    float* dst = col + p * row + k * c;
    if (in < 0)
      std::memset(dst, 0, static_cast<size_t>(c) * sizeof(float));
    else
      std::memcpy(dst, x + in * c, static_cast<size_t>(c) * sizeof(float));
  });
}

void col2im_add(const float* col, const ConvGeometry& g, float* x) {
  const int64_t c = g.c_in, row = g.kernel_positions() * c;
  for_each_tap(g, [&](int64_t p, int64_t k, int64_t in) {
    if (in < 0) return;
    const float* src = col + p * row + k * c;
    float* dst = x + in * c;
    for (int64_t i = 0; i < c; ++i) dst[i] += src[i];
  });
}

Tensor forward(const Tensor& x, const Tensor& w, const ConvGeometry& g) {
  Tensor y = Tensor::empty(g.output_shape(g.c_out));
  const int64_t per = samples_per_chunk(g), kc = g.kernel_positions() * g.c_in;
  const int64_t in_size = g.in_positions() * g.c_in, rows_per_sample = g.out_positions();
  const float* px = x.data();
  const float* pw = w.data();
  float* py = y.data();
  parallel_chunks(g.batch, per, [&](int64_t, int64_t b0, int64_t b1) {
    const int64_t rows = (b1 - b0) * rows_per_sample;
    float* col = scratch(static_cast<size_t>(rows * kc));
    for (int64_t b = b0; b < b1; ++b) im2col(px + b * in_size, g, col + (b - b0) * rows_per_sample * kc);
    gemm({col, kc}, {pw, g.c_out}, py + b0 * rows_per_sample * g.c_out, g.c_out, rows, kc, g.c_out);
  });
  return y;
}

Tensor backward_data(const Tensor& dy, const Tensor& w, const ConvGeometry& g) {
  Tensor dx = Tensor::zeros(g.input_shape());
  const int64_t per = samples_per_chunk(g), kc = g.kernel_positions() * g.c_in;
  const int64_t in_size = g.in_positions() * g.c_in, rows_per_sample = g.out_positions();
  const float* pdy = dy.data();
  const float* pw = w.data();
  float* pdx = dx.data();
  parallel_chunks(g.batch, per, [&](int64_t, int64_t b0, int64_t b1) {
    const int64_t rows = (b1 - b0) * rows_per_sample;
    float* dcol = scratch(static_cast<size_t>(rows * kc));
    // dcol (rows, kc) = dy (rows, c_out) · w^T (c_out, kc)
    gemm({pdy + b0 * rows_per_sample * g.c_out, g.c_out}, {pw, g.c_out, true}, dcol, kc, rows, g.c_out, kc);
    for (int64_t b = b0; b < b1; ++b) col2im_add(dcol + (b - b0) * rows_per_sample * kc, g, pdx + b * in_size);
  });
  return dx;
}

namespace {
// Adds the per-chunk kernel gradients in chunk order (fixed: independent of the thread count).
Tensor reduce_partials(const std::vector<float>& partials, int64_t chunks, int64_t w_size, const Shape& w_shape) {
  Tensor dw = Tensor::zeros(w_shape);
  float* out = dw.data();
  parallel_for(0, w_size, 1 << 14, [&](int64_t lo, int64_t hi) {
    for (int64_t c = 0; c < chunks; ++c) {
      const float* part = partials.data() + c * w_size;
      for (int64_t i = lo; i < hi; ++i) out[i] += part[i];
    }
  });
  return dw;
}
}  // namespace

void backward(const Tensor& x, const Tensor& w, const Tensor& dy, const ConvGeometry& g, bool want_dx, Tensor* dx, Tensor* dw) {
  const int64_t per = samples_per_chunk(g), kc = g.kernel_positions() * g.c_in;
  const int64_t in_size = g.in_positions() * g.c_in, rows_per_sample = g.out_positions();
  const int64_t chunks = (g.batch + per - 1) / per, w_size = kc * g.c_out;
  std::vector<float> partials(static_cast<size_t>(chunks * w_size));
  if (want_dx) *dx = Tensor::zeros(g.input_shape());
  const float* px = x.data();
  const float* pw = w.data();
  const float* pdy = dy.data();
  float* pdx = want_dx ? dx->data() : nullptr;
  parallel_chunks(g.batch, per, [&](int64_t chunk, int64_t b0, int64_t b1) {
    const int64_t rows = (b1 - b0) * rows_per_sample;
    float* col = scratch(static_cast<size_t>(rows * kc));
    const float* dy_chunk = pdy + b0 * rows_per_sample * g.c_out;
    for (int64_t b = b0; b < b1; ++b) im2col(px + b * in_size, g, col + (b - b0) * rows_per_sample * kc);
    // partial dw (kc, c_out) = col^T (kc, rows) · dy (rows, c_out)
    gemm({col, kc, true}, {dy_chunk, g.c_out}, partials.data() + chunk * w_size, g.c_out, kc, rows, g.c_out);
    if (!want_dx) return;
    // The patches are spent: reuse their buffer for dcol (rows, kc) = dy · w^T, then scatter.
    gemm({dy_chunk, g.c_out}, {pw, g.c_out, true}, col, kc, rows, g.c_out, kc);
    for (int64_t b = b0; b < b1; ++b) col2im_add(col + (b - b0) * rows_per_sample * kc, g, pdx + b * in_size);
  });
  *dw = reduce_partials(partials, chunks, w_size, w.shape());
}

Tensor backward_weights(const Tensor& x, const Tensor& dy, const ConvGeometry& g, const Shape& w_shape) {
  const int64_t per = samples_per_chunk(g), kc = g.kernel_positions() * g.c_in;
  const int64_t in_size = g.in_positions() * g.c_in, rows_per_sample = g.out_positions();
  const int64_t chunks = (g.batch + per - 1) / per, w_size = kc * g.c_out;
  // One partial kernel gradient per chunk, summed in chunk order below.
  std::vector<float> partials(static_cast<size_t>(chunks * w_size));
  const float* px = x.data();
  const float* pdy = dy.data();
  parallel_chunks(g.batch, per, [&](int64_t chunk, int64_t b0, int64_t b1) {
    const int64_t rows = (b1 - b0) * rows_per_sample;
    float* col = scratch(static_cast<size_t>(rows * kc));
    for (int64_t b = b0; b < b1; ++b) im2col(px + b * in_size, g, col + (b - b0) * rows_per_sample * kc);
    // partial (kc, c_out) = col^T (kc, rows) · dy (rows, c_out)
    gemm({col, kc, true}, {pdy + b0 * rows_per_sample * g.c_out, g.c_out}, partials.data() + chunk * w_size, g.c_out, kc,
         rows, g.c_out);
  });
  return reduce_partials(partials, chunks, w_size, w_shape);
}

}  // namespace tapegrad::conv_engine
