#include "autograd/conv_engine.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "autograd/conv_bf16.h"
#include "autograd/conv_direct.h"
#include "autograd/conv_strided.h"
#include "autograd/conv_winograd.h"
#include "core/gemm.h"
#include "core/scratch.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/parallel.h"

namespace tapegrad::conv_engine {

namespace {

// Samples per task. im2col: enough rows (samples x output positions) to keep the GEMM
// efficient, few enough that the patch buffer stays in cache. The direct kernels (stride 1 and
// strided) work sample by sample, so their chunks only set how many partial kernel gradients
// there are to add up: a fixed 16 per batch, plenty to balance the threads. Depends only on the
// geometry.
int64_t samples_per_chunk(const ConvGeometry& g, bool direct_or_strided) {
  if (direct_or_strided) return (g.batch + 15) / 16;
  constexpr int64_t kTargetRows = 1024;
  return std::max<int64_t>(1, kTargetRows / std::max<int64_t>(1, g.out_positions()));
}

// A per-thread scratch buffer, reused across calls so steady-state training does not allocate.
float* scratch(size_t n) {
  thread_local ScratchBuffer buffer;
  return buffer.get(n);
}

// Calls f(p, k0, row_base, iw0) for every output position p and kernel row (kd, kh): kernel
// positions k0 .. k0 + KW - 1 read input pixels row_base + iw0 + kw * dilation (iw0 may be
// negative: padding). A kernel row outside the input gives row_base = -1.
// With dilation 1 the in-bounds taps of a kernel row are one contiguous run of input memory, so
// im2col and col2im move whole runs instead of one channel vector at a time.
template <class F>
inline void for_each_kernel_row(const ConvGeometry& g, F f) {
  int64_t p = 0;
  for (int64_t od = 0; od < g.out[0]; ++od)
    for (int64_t oh = 0; oh < g.out[1]; ++oh)
      for (int64_t ow = 0; ow < g.out[2]; ++ow, ++p) {
        const int64_t iw0 = ow * g.stride[2] - g.pad_before[2];
        int64_t k = 0;
        for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
          const int64_t id = od * g.stride[0] - g.pad_before[0] + kd * g.dilation[0];
          for (int64_t kh = 0; kh < g.kernel[1]; ++kh, k += g.kernel[2]) {
            const int64_t ih = oh * g.stride[1] - g.pad_before[1] + kh * g.dilation[1];
            const bool inside = id >= 0 && id < g.in[0] && ih >= 0 && ih < g.in[1];
            f(p, k, inside ? (id * g.in[1] + ih) * g.in[2] : -1, iw0);
          }
        }
      }
}

}  // namespace

void im2col(const float* x, const ConvGeometry& g, float* col) {
  const int64_t c = g.c_in, kw_n = g.kernel[2], dil = g.dilation[2], width = g.in[2];
  const int64_t row = g.kernel_positions() * c;
  for_each_kernel_row(g, [&](int64_t p, int64_t k0, int64_t row_base, int64_t iw0) {
    float* dst = col + p * row + k0 * c;
    if (row_base < 0) {
      std::memset(dst, 0, static_cast<size_t>(kw_n * c) * sizeof(float));
      return;
    }
    if (dil == 1) {  // taps [lo, hi) are inside: one copy, zeros around it
      const int64_t lo = std::clamp<int64_t>(-iw0, 0, kw_n), hi = std::clamp<int64_t>(width - iw0, lo, kw_n);
      if (lo > 0) std::memset(dst, 0, static_cast<size_t>(lo * c) * sizeof(float));
      if (hi > lo) std::memcpy(dst + lo * c, x + (row_base + iw0 + lo) * c, static_cast<size_t>((hi - lo) * c) * sizeof(float));
      if (hi < kw_n) std::memset(dst + hi * c, 0, static_cast<size_t>((kw_n - hi) * c) * sizeof(float));
      return;
    }
    for (int64_t kw = 0; kw < kw_n; ++kw) {
      const int64_t iw = iw0 + kw * dil;
      if (iw < 0 || iw >= width)
        std::memset(dst + kw * c, 0, static_cast<size_t>(c) * sizeof(float));
      else
        std::memcpy(dst + kw * c, x + (row_base + iw) * c, static_cast<size_t>(c) * sizeof(float));
    }
  });
}

// Functions of restrict pointers so that they vectorise (inside a chunk lambda every pointer is
// a capture the stores might alias).
void relu_gradient(const float* __restrict dy, const float* __restrict y, int64_t n, float* __restrict out) {
  for (int64_t i = 0; i < n; ++i) out[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}
void add_column_sums(const float* __restrict m, int64_t rows, int64_t cols, float* __restrict sums) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) sums[c] += m[r * cols + c];
}

void col2im_add(const float* col, const ConvGeometry& g, float* x) {
  const int64_t c = g.c_in, kw_n = g.kernel[2], dil = g.dilation[2], width = g.in[2];
  const int64_t row = g.kernel_positions() * c;
  for_each_kernel_row(g, [&](int64_t p, int64_t k0, int64_t row_base, int64_t iw0) {
    if (row_base < 0) return;
    const float* src = col + p * row + k0 * c;
    if (dil == 1) {
      const int64_t lo = std::clamp<int64_t>(-iw0, 0, kw_n), hi = std::clamp<int64_t>(width - iw0, lo, kw_n);
      float* dst = x + (row_base + iw0 + lo) * c;
      const float* s = src + lo * c;
      for (int64_t i = 0, n = (hi - lo) * c; i < n; ++i) dst[i] += s[i];
      return;
    }
    for (int64_t kw = 0; kw < kw_n; ++kw) {
      const int64_t iw = iw0 + kw * dil;
      if (iw < 0 || iw >= width) continue;
      float* dst = x + (row_base + iw) * c;
      for (int64_t i = 0; i < c; ++i) dst[i] += src[kw * c + i];
    }
  });
}

namespace {
// The forward product of a stride-1 geometry, per sample, by the fastest kernel that serves it:
// Winograd for 3x3 windows over enough channels, else the direct kernel.
class StrideOneForward {
 public:
  StrideOneForward(const ConvGeometry& g, const float* w)
      : plan_(g), w_(w), winograd_(conv_winograd::supports(g)) {
    if (winograd_) winograd_w_ = conv_winograd::transform_kernel(w, g);
  }
  // y = x * w (y += x * w with accumulate) for `samples` consecutive samples.
  void run(int64_t samples, const float* x, const float* bias, bool relu, float* y, bool accumulate = false) const {
    if (winograd_) {
      conv_winograd::forward_samples(plan_.g, samples, x, winograd_w_.data(), bias, relu, y, accumulate);
      return;
    }
    const int64_t in_size = plan_.g.in_positions() * plan_.g.c_in, out_size = plan_.g.out_positions() * plan_.g.c_out;
    for (int64_t b = 0; b < samples; ++b)
      conv_direct::forward_sample(plan_, x + b * in_size, w_, bias, relu, y + b * out_size, accumulate);
  }
  // Samples per call that keep the kernel busy (Winograd: enough tiles for one block).
  int64_t samples_per_call() const { return winograd_ ? conv_winograd::samples_per_block(plan_.g) : 1; }

 private:
  conv_direct::Plan plan_;
  const float* w_;
  bool winograd_;
  std::vector<float> winograd_w_;
};
}  // namespace

Tensor forward(const Tensor& x, const Tensor& w, const ConvGeometry& g, const Epilogue& epilogue, Dtype compute) {
  if (compute == Dtype::bfloat16) return conv_bf16::forward(x, w, g, epilogue);
  Tensor y = Tensor::empty(g.output_shape(g.c_out));
  if (conv_direct::supports(g)) {
    const StrideOneForward product(g, w.data());
    const int64_t in_size = g.in_positions() * g.c_in, out_size = g.out_positions() * g.c_out;
    parallel_chunks(g.batch, product.samples_per_call(), [&](int64_t, int64_t b0, int64_t b1) {
      product.run(b1 - b0, x.data() + b0 * in_size, epilogue.bias, epilogue.relu, y.data() + b0 * out_size);
    });
    return y;
  }
  const int64_t per = samples_per_chunk(g, conv_strided::supports(g)), kc = g.kernel_positions() * g.c_in;
  const int64_t in_size = g.in_positions() * g.c_in, rows_per_sample = g.out_positions();
  if (conv_strided::supports(g)) {
    const conv_strided::Plan plan(g);
    const int64_t out_size = rows_per_sample * g.c_out;
    parallel_chunks(g.batch, per, [&](int64_t, int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b)
        conv_strided::forward_sample(plan, x.data() + b * in_size, w.data(), epilogue.bias, epilogue.relu, y.data() + b * out_size);
    });
    return y;
  }
  const float* px = x.data();
  const float* pw = w.data();
  float* py = y.data();
  parallel_chunks(g.batch, per, [&](int64_t, int64_t b0, int64_t b1) {
    const int64_t rows = (b1 - b0) * rows_per_sample;
    float* col = scratch(static_cast<size_t>(rows * kc));
    for (int64_t b = b0; b < b1; ++b) im2col(px + b * in_size, g, col + (b - b0) * rows_per_sample * kc);
    float* out = py + b0 * rows_per_sample * g.c_out;
    // The bias and the relu are applied to the chunk while it is still in cache.
    if (epilogue.bias)
      for (int64_t r = 0; r < rows; ++r) std::memcpy(out + r * g.c_out, epilogue.bias, static_cast<size_t>(g.c_out) * sizeof(float));
    gemm({col, kc}, {pw, g.c_out}, out, g.c_out, rows, kc, g.c_out, /*accumulate=*/epilogue.bias != nullptr);
    if (epilogue.relu)
      for (int64_t i = 0, n = rows * g.c_out; i < n; ++i) out[i] = out[i] > 0.0f ? out[i] : 0.0f;
  });
  return y;
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

// A second per-thread buffer, for the masked output gradient of a chunk.
float* scratch_dy(size_t n) {
  thread_local ScratchBuffer buffer;
  return buffer.get(n);
}
}  // namespace

// Output positions per sample from which the direct kernels serve the backward (above: im2col).
constexpr int64_t kMinDirectBackwardPositions = 16;

bool adds_input_gradient(const ConvGeometry& g, Dtype compute) {
  return compute == Dtype::bfloat16 || conv_direct::supports(g) || !conv_strided::supports(g);
}

Gradients backward(const Tensor& x, const Tensor& w, const Tensor& dy, const ConvGeometry& g, const BackwardRequest& want) {
  if (want.dx && want.dx_into && (!adds_input_gradient(g, want.compute) || want.dx_into->shape() != g.input_shape()))
    fail("conv", "cannot add the input gradient into a tensor of shape " + want.dx_into->shape().str() + " for input " +
                     g.input_shape().str() + " on this path");
  if (want.compute == Dtype::bfloat16) return conv_bf16::backward(x, w, dy, g, want);
  const int64_t kc = g.kernel_positions() * g.c_in;
  const int64_t in_size = g.in_positions() * g.c_in, rows_per_sample = g.out_positions();
  // The direct kernels' gradients work per sample: with only a few output positions each
  // (a text CNN's last Conv1D over 7 steps has 3), the kernel gradient is mostly loads and
  // stores of dw and the input gradient mostly products with the frame's zeros, so such
  // geometries take im2col and one GEMM over the chunk's samples (measured 3.8 -> 1.x ms).
  const bool direct = conv_direct::supports(g) && g.out_positions() >= kMinDirectBackwardPositions;
  const bool strided = conv_strided::supports(g);
  const int64_t per = samples_per_chunk(g, direct || strided), chunks = (g.batch + per - 1) / per, w_size = kc * g.c_out;
  // 3x3 kernel gradients go through the Winograd domain, in a pass of their own (below).
  const bool winograd_dw = direct && want.dw && conv_winograd::supports(g);
  const bool chunk_dw = want.dw && !winograd_dw;
  // Per-chunk partial kernel and bias gradients, summed in chunk order below.
  std::vector<float> partials(chunk_dw ? static_cast<size_t>(chunks * w_size) : 0);
  std::vector<float> bias_partials(want.db ? static_cast<size_t>(chunks * g.c_out) : 0, 0.0f);
  Gradients out;
  const conv_direct::Plan dw_plan(direct && chunk_dw ? g : ConvGeometry{});
  // At stride 1 the input gradient is a forward convolution of dy with the flipped kernel.
  std::vector<float> flipped(direct && want.dx ? static_cast<size_t>(w_size) : 0);
  if (!flipped.empty()) conv_direct::flip_kernel(w.data(), g, flipped.data());
  const StrideOneForward input_gradient(direct && want.dx ? conv_direct::input_gradient_geometry(g) : ConvGeometry{},
                                        flipped.data());
  // Strided: the kernel with each tap transposed, for the input gradient's phases.
  const conv_strided::Plan strided_plan(strided ? g : ConvGeometry{});
  std::vector<float> transposed(strided && want.dx ? static_cast<size_t>(w_size) : 0);
  if (!transposed.empty()) conv_strided::transpose_kernel(w.data(), g, transposed.data());
  // The direct kernels write every input position; col2im adds onto zeros (or onto dx_into).
  const bool add_dx = want.dx && want.dx_into;
  if (want.dx && !add_dx) out.dx = direct || strided ? Tensor::empty(g.input_shape()) : Tensor::zeros(g.input_shape());
  const float* px = x.data();
  const float* pw = w.data();
  const float* pdy = dy.data();
  const float* relu_y = want.relu_output ? want.relu_output->data() : nullptr;
  float* pdx = add_dx ? want.dx_into->data() : want.dx ? out.dx.data() : nullptr;
  parallel_chunks(g.batch, per, [&](int64_t chunk, int64_t b0, int64_t b1) {
    const int64_t rows = (b1 - b0) * rows_per_sample, offset = b0 * rows_per_sample * g.c_out;
    const float* dy_chunk = pdy + offset;
    if (relu_y) {  // the fused relu's gradient: zero where the output was clamped
      float* masked = scratch_dy(static_cast<size_t>(rows * g.c_out));
      relu_gradient(dy_chunk, relu_y + offset, rows * g.c_out, masked);
      dy_chunk = masked;
    }
    if (want.db) add_column_sums(dy_chunk, rows, g.c_out, bias_partials.data() + chunk * g.c_out);
    if (direct) {
      const int64_t out_size = rows_per_sample * g.c_out;
      if (chunk_dw) {
        float* dw = partials.data() + chunk * w_size;
        std::fill(dw, dw + w_size, 0.0f);
        for (int64_t b = b0; b < b1; ++b)
          conv_direct::add_weight_gradient_sample(dw_plan, px + b * in_size, dy_chunk + (b - b0) * out_size, dw);
      }
      if (want.dx) input_gradient.run(b1 - b0, dy_chunk, nullptr, false, pdx + b0 * in_size, add_dx);
      return;
    }
    if (strided) {
      const int64_t out_size = rows_per_sample * g.c_out;
      if (want.dw) {
        float* dw = partials.data() + chunk * w_size;
        std::fill(dw, dw + w_size, 0.0f);
        for (int64_t b = b0; b < b1; ++b)
          conv_strided::add_weight_gradient_sample(strided_plan, px + b * in_size, dy_chunk + (b - b0) * out_size, dw);
      }
      if (want.dx)
        for (int64_t b = b0; b < b1; ++b)
          conv_strided::input_gradient_sample(strided_plan, dy_chunk + (b - b0) * out_size, transposed.data(), pdx + b * in_size);
      return;
    }
    float* col = scratch(static_cast<size_t>(rows * kc));
    if (want.dw) {
      for (int64_t b = b0; b < b1; ++b) im2col(px + b * in_size, g, col + (b - b0) * rows_per_sample * kc);
      // partial dw (kc, c_out) = col^T (kc, rows) · dy (rows, c_out)
      gemm({col, kc, true}, {dy_chunk, g.c_out}, partials.data() + chunk * w_size, g.c_out, kc, rows, g.c_out);
    }
    if (!want.dx) return;
    // The patches are spent: reuse their buffer for dcol (rows, kc) = dy · w^T, then scatter.
    gemm({dy_chunk, g.c_out}, {pw, g.c_out, true}, col, kc, rows, g.c_out, kc);
    for (int64_t b = b0; b < b1; ++b) col2im_add(col + (b - b0) * rows_per_sample * kc, g, pdx + b * in_size);
  });
  if (winograd_dw) {
    out.dw = Tensor::empty(w.shape());
    conv_winograd::weight_gradient(g, px, pdy, relu_y, out.dw.data());
  } else if (want.dw) {
    out.dw = reduce_partials(partials, chunks, w_size, w.shape());
  }
  if (want.db) out.db = reduce_partials(bias_partials, chunks, g.c_out, Shape{g.c_out});
  return out;
}

}  // namespace tapegrad::conv_engine
