// depthwise_conv: each input channel convolved with its own `multiplier` filters (Keras'
// DepthwiseConv and the first half of SeparableConv). Direct loops: the per-channel work is too
// thin for a GEMM. Output channel c * multiplier + m comes from input channel c. With multiplier
// 1 (MobileNet's) the forward and the input gradient accumulate each position's taps in
// registers, a block of channels at a time, and write it once.
#include <algorithm>
#include <array>
#include <vector>

#include "tapegrad/autograd/conv.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/parallel.h"

namespace tapegrad {

namespace {

// Every (output position, kernel position, input offset) of one sample, as conv_engine walks it.
template <class F>
void for_each_tap(const ConvGeometry& g, F f) {
  int64_t p = 0;
  for (int64_t od = 0; od < g.out[0]; ++od)
    for (int64_t oh = 0; oh < g.out[1]; ++oh)
      for (int64_t ow = 0; ow < g.out[2]; ++ow, ++p) {
        int64_t k = 0;
        for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
          const int64_t id = od * g.stride[0] - g.pad_before[0] + kd * g.dilation[0];
          for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
            const int64_t ih = oh * g.stride[1] - g.pad_before[1] + kh * g.dilation[1];
            for (int64_t kw = 0; kw < g.kernel[2]; ++kw, ++k) {
              const int64_t iw = ow * g.stride[2] - g.pad_before[2] + kw * g.dilation[2];
              if (id >= 0 && id < g.in[0] && ih >= 0 && ih < g.in[1] && iw >= 0 && iw < g.in[2])
                f(p, k, (id * g.in[1] + ih) * g.in[2] + iw);
            }
          }
        }
      }
}

// y[i] += x[i / mult] * w[i] for i < c * mult: the inner loop of the forward and the kernel
// gradient, with no division per element so that it vectorises over the channels (the same
// additions in the same order as the plain loop).
inline void spread_multiply_add(float* __restrict y, const float* __restrict x, const float* __restrict w, int64_t c,
                                int64_t mult) {
  if (mult == 1) {
    for (int64_t i = 0; i < c; ++i) y[i] += x[i] * w[i];
    return;
  }
  for (int64_t ci = 0; ci < c; ++ci) {
    const float xv = x[ci];
    for (int64_t m = 0; m < mult; ++m) y[ci * mult + m] += xv * w[ci * mult + m];
  }
}

// dx[i / mult] += dy[i] * w[i] for i < c * mult: the input gradient's inner loop.
inline void gather_multiply_add(float* __restrict dx, const float* __restrict dy, const float* __restrict w, int64_t c,
                                int64_t mult) {
  if (mult == 1) {
    for (int64_t i = 0; i < c; ++i) dx[i] += dy[i] * w[i];
    return;
  }
  for (int64_t ci = 0; ci < c; ++ci) {
    float acc = dx[ci];
    for (int64_t m = 0; m < mult; ++m) acc += dy[ci * mult + m] * w[ci * mult + m];
    dx[ci] = acc;
  }
}

// Channels per register block of the multiplier-1 kernels: 64 accumulators (four AVX-512
// vectors) stay in registers over all the taps of one output (or input) position.
constexpr int64_t kBlock = 64;

// acc[0 .. n) += a[i] * b[i], n <= kBlock; a whole block is its own loop so that it vectorises
// with acc in registers.
inline void block_multiply_add(float* __restrict acc, const float* __restrict a, const float* __restrict b, int64_t n) {
  if (n == kBlock) {
    for (int64_t i = 0; i < kBlock; ++i) acc[i] += a[i] * b[i];
    return;
  }
  for (int64_t i = 0; i < n; ++i) acc[i] += a[i] * b[i];
}

// Per spatial dim, the taps' coordinate pairs: with by_input false, for each output coordinate
// and kernel offset the input coordinate it reads (table[o * k + kk] = i); with by_input true
// the converse, for each input coordinate and offset the output coordinate that reads it
// (table[i * k + kk] = o). -1 where there is none (the padding).
std::array<std::vector<int64_t>, 3> tap_coordinates(const ConvGeometry& g, bool by_input) {
  std::array<std::vector<int64_t>, 3> table;
  for (int d = 0; d < 3; ++d) {
    table[d].assign(static_cast<size_t>((by_input ? g.in[d] : g.out[d]) * g.kernel[d]), -1);
    for (int64_t o = 0; o < g.out[d]; ++o)
      for (int64_t k = 0; k < g.kernel[d]; ++k) {
        const int64_t i = o * g.stride[d] - g.pad_before[d] + k * g.dilation[d];
        if (i < 0 || i >= g.in[d]) continue;
        if (by_input)
          table[d][static_cast<size_t>(i * g.kernel[d] + k)] = o;
        else
          table[d][static_cast<size_t>(o * g.kernel[d] + k)] = i;
      }
  }
  return table;
}

// Multiplier 1, one sample: y at each output position = sum over its taps, in kernel order, of
// x * w, accumulated in registers per block of channels and written once (no zeroing pass, no
// read-modify-write per tap). The same sums in the same order as for_each_tap's.
void forward_sample_by_blocks(const float* x, const float* w, const ConvGeometry& g,
                              const std::array<std::vector<int64_t>, 3>& in_of, float* y) {
  const int64_t c = g.c_in;
  int64_t p = 0;
  for (int64_t od = 0; od < g.out[0]; ++od)
    for (int64_t oh = 0; oh < g.out[1]; ++oh)
      for (int64_t ow = 0; ow < g.out[2]; ++ow, ++p)
        for (int64_t c0 = 0; c0 < c; c0 += kBlock) {
          const int64_t n = std::min(kBlock, c - c0);
          alignas(64) float acc[kBlock] = {};
          int64_t k = 0;
          for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
            const int64_t id = in_of[0][static_cast<size_t>(od * g.kernel[0] + kd)];
            for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
              const int64_t ih = in_of[1][static_cast<size_t>(oh * g.kernel[1] + kh)];
              for (int64_t kw = 0; kw < g.kernel[2]; ++kw, ++k) {
                const int64_t iw = in_of[2][static_cast<size_t>(ow * g.kernel[2] + kw)];
                if (id < 0 || ih < 0 || iw < 0) continue;
                block_multiply_add(acc, x + ((id * g.in[1] + ih) * g.in[2] + iw) * c + c0, w + k * c + c0, n);
              }
            }
          }
          std::copy(acc, acc + n, y + p * c + c0);
        }
}

// Multiplier 1, one sample's input gradient, gathered: dx at each input position = sum over the
// (output, tap) pairs that read it of dy * w, in the order the scatter form adds them (outputs
// ascending, which is taps descending), in registers per block of channels and written once.
void input_gradient_sample_by_blocks(const float* dy, const float* w, const ConvGeometry& g,
                                     const std::array<std::vector<int64_t>, 3>& out_of, float* dx) {
  const int64_t c = g.c_in;
  const int64_t taps = g.kernel[0] * g.kernel[1] * g.kernel[2];
  int64_t q = 0;
  for (int64_t id = 0; id < g.in[0]; ++id)
    for (int64_t ih = 0; ih < g.in[1]; ++ih)
      for (int64_t iw = 0; iw < g.in[2]; ++iw, ++q)
        for (int64_t c0 = 0; c0 < c; c0 += kBlock) {
          const int64_t n = std::min(kBlock, c - c0);
          alignas(64) float acc[kBlock] = {};
          int64_t k = taps - 1;
          for (int64_t kd = g.kernel[0] - 1; kd >= 0; --kd) {
            const int64_t od = out_of[0][static_cast<size_t>(id * g.kernel[0] + kd)];
            for (int64_t kh = g.kernel[1] - 1; kh >= 0; --kh) {
              const int64_t oh = out_of[1][static_cast<size_t>(ih * g.kernel[1] + kh)];
              for (int64_t kw = g.kernel[2] - 1; kw >= 0; --kw, --k) {
                const int64_t ow = out_of[2][static_cast<size_t>(iw * g.kernel[2] + kw)];
                if (od < 0 || oh < 0 || ow < 0) continue;
                block_multiply_add(acc, dy + ((od * g.out[1] + oh) * g.out[2] + ow) * c + c0, w + k * c + c0, n);
              }
            }
          }
          std::copy(acc, acc + n, dx + q * c + c0);
        }
}

Tensor forward(const Tensor& x, const Tensor& w, const ConvGeometry& g, int64_t mult) {
  const int64_t c = g.c_in, in_size = g.in_positions() * c, out_size = g.out_positions() * g.c_out;
  const float* px = x.data();
  const float* pw = w.data();
  if (mult == 1) {
    Tensor y = Tensor::empty(g.output_shape(g.c_out));
    const auto in_of = tap_coordinates(g, false);
    parallel_for(0, g.batch, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) forward_sample_by_blocks(px + b * in_size, pw, g, in_of, y.data() + b * out_size);
    });
    return y;
  }
  Tensor y = Tensor::zeros(g.output_shape(g.c_out));
  float* py = y.data();
  parallel_for(0, g.batch, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      for_each_tap(g, [&](int64_t p, int64_t k, int64_t in) {
        const float* xi = px + b * in_size + in * c;
        const float* wk = pw + k * c * mult;
        float* yo = py + b * out_size + p * g.c_out;
        spread_multiply_add(yo, xi, wk, c, mult);
      });
  });
  return y;
}

Tensor backward_data(const Tensor& dy, const Tensor& w, const ConvGeometry& g, int64_t mult) {
  const int64_t c = g.c_in, in_size = g.in_positions() * c, out_size = g.out_positions() * g.c_out;
  const float* pdy = dy.data();
  const float* pw = w.data();
  if (mult == 1) {
    Tensor dx = Tensor::empty(g.input_shape());
    const auto out_of = tap_coordinates(g, true);
    parallel_for(0, g.batch, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b)
        input_gradient_sample_by_blocks(pdy + b * out_size, pw, g, out_of, dx.data() + b * in_size);
    });
    return dx;
  }
  Tensor dx = Tensor::zeros(g.input_shape());
  float* pdx = dx.data();
  parallel_for(0, g.batch, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      for_each_tap(g, [&](int64_t p, int64_t k, int64_t in) {
        float* dxi = pdx + b * in_size + in * c;
        const float* wk = pw + k * c * mult;
        const float* dyo = pdy + b * out_size + p * g.c_out;
        gather_multiply_add(dxi, dyo, wk, c, mult);
      });
  });
  return dx;
}

Tensor backward_weights(const Tensor& x, const Tensor& dy, const ConvGeometry& g, int64_t mult, const Shape& w_shape) {
  const int64_t c = g.c_in, in_size = g.in_positions() * c, out_size = g.out_positions() * g.c_out;
  const int64_t w_size = w_shape.numel();
  constexpr int64_t kSamplesPerChunk = 4;  // fixed: the reduction order never depends on threads
  const int64_t chunks = (g.batch + kSamplesPerChunk - 1) / kSamplesPerChunk;
  std::vector<float> partials(static_cast<size_t>(chunks * w_size), 0.0f);
  const float* px = x.data();
  const float* pdy = dy.data();
  parallel_chunks(g.batch, kSamplesPerChunk, [&](int64_t chunk, int64_t b0, int64_t b1) {
    float* dw = partials.data() + chunk * w_size;
    for (int64_t b = b0; b < b1; ++b)
      for_each_tap(g, [&](int64_t p, int64_t k, int64_t in) {
        const float* xi = px + b * in_size + in * c;
        const float* dyo = pdy + b * out_size + p * g.c_out;
        float* dwk = dw + k * c * mult;
        spread_multiply_add(dwk, xi, dyo, c, mult);
      });
  });
  Tensor dw = Tensor::zeros(w_shape);
  for (int64_t chunk = 0; chunk < chunks; ++chunk)
    for (int64_t i = 0; i < w_size; ++i) dw.data()[i] += partials[static_cast<size_t>(chunk * w_size + i)];
  return dw;
}

}  // namespace

Variable depthwise_conv(const Variable& x, const Variable& w, const ConvParams& params) {
  const char* op = "depthwise_conv";
  const int r = x.rank() - 2;
  if (r < 1 || r > 3 || w.rank() != r + 2)
    fail(op, "input " + x.shape().str() + " and kernel " + w.shape().str() +
                 " must be (batch, *spatial, channels) and (*window, channels, multiplier)");
  const Shape ws = w.shape();
  if (ws[r] != x.dim(-1))
    fail(op, "kernel " + ws.str() + " is for " + std::to_string(ws[r]) + " channels, input " + x.shape().str() + " has " +
                 std::to_string(x.dim(-1)));
  const int64_t mult = ws[r + 1];
  const ConvGeometry g =
      conv_geometry(op, x.shape(), std::vector<int64_t>(ws.begin(), ws.begin() + r), ws[r] * mult, params);
  const Tensor xv = x.value(), wv = w.value();
  return record(op, forward(xv, wv, g, mult), {x, w}, [xv, wv, g, mult](const Tensor& dy, GradSink& s) {
    if (s.needs(0)) s.set(0, backward_data(dy, wv, g, mult));
    if (s.needs(1)) s.set(1, backward_weights(xv, dy, g, mult, wv.shape()));
  });
}

}  // namespace tapegrad
