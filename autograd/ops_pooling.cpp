// max_pool and avg_pool: forward and backward. Direct loops over windows, vectorised over the
// contiguous channels, parallel over the batch.
#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "tapegrad/autograd/conv.h"
#include "tapegrad/autograd/pooling.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/parallel.h"

namespace tapegrad {

namespace {

ConvGeometry pool_geometry(const char* op, const Shape& x, const std::vector<int64_t>& pool,
                           const std::vector<int64_t>& strides, const std::string& padding) {
  if (padding != "valid" && padding != "same") fail(op, "unknown padding '" + padding + "'; known: valid, same");
  return conv_geometry(op, x, pool, x.rank() >= 3 ? x[x.rank() - 1] : 0,
                       {.strides = strides.empty() ? pool : strides, .padding = padding});
}

// Calls f(out_position, window_start, window_end) per output position with the window clipped to
// the input, as [start, end) per dim.
template <class F>
void for_each_window(const ConvGeometry& g, F f) {
  int64_t p = 0;
  int64_t lo[3], hi[3];
  for (int64_t od = 0; od < g.out[0]; ++od) {
    lo[0] = std::max<int64_t>(0, od * g.stride[0] - g.pad_before[0]);
    hi[0] = std::min(g.in[0], od * g.stride[0] - g.pad_before[0] + g.kernel[0]);
    for (int64_t oh = 0; oh < g.out[1]; ++oh) {
      lo[1] = std::max<int64_t>(0, oh * g.stride[1] - g.pad_before[1]);
      hi[1] = std::min(g.in[1], oh * g.stride[1] - g.pad_before[1] + g.kernel[1]);
      for (int64_t ow = 0; ow < g.out[2]; ++ow, ++p) {
        lo[2] = std::max<int64_t>(0, ow * g.stride[2] - g.pad_before[2]);
        hi[2] = std::min(g.in[2], ow * g.stride[2] - g.pad_before[2] + g.kernel[2]);
        f(p, lo, hi);
      }
    }
  }
}

// best = max(best, x) per channel, arg = offset where x won. Strict: the first maximum wins, as
// in TensorFlow. Branch-free over restrict pointers, so it vectorises.
void take_larger(const float* __restrict x, int32_t offset, int64_t c, float* __restrict best, int32_t* __restrict arg) {
  for (int64_t i = 0; i < c; ++i) {
    const bool larger = x[i] > best[i];
    best[i] = larger ? x[i] : best[i];
    arg[i] = larger ? offset : arg[i];
  }
}

}  // namespace

Variable max_pool(const Variable& x, const std::vector<int64_t>& pool, const std::vector<int64_t>& strides,
                  const std::string& padding) {
  const ConvGeometry g = pool_geometry("max_pool", x.shape(), pool, strides, padding);
  const int64_t c = g.c_in, in_size = g.in_positions() * c, out_size = g.out_positions() * c;
  Tensor y = Tensor::empty(g.output_shape(c));
  // The input offset (within its sample) that won each output element, for the backward pass.
  std::shared_ptr<int32_t[]> winners = allocate_indices(y.numel());
  if (in_size > std::numeric_limits<int32_t>::max()) fail("max_pool", "input " + x.shape().str() + " is too large per sample");
  const float* px = x.value().data();
  float* py = y.data();
  parallel_for(0, g.batch, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const float* xs = px + b * in_size;
      float* ys = py + b * out_size;
      int32_t* ws = winners.get() + b * out_size;
      for_each_window(g, [&](int64_t p, const int64_t* lo, const int64_t* hi) {
        float* yo = ys + p * c;
        int32_t* wo = ws + p * c;
        std::fill(yo, yo + c, -std::numeric_limits<float>::infinity());
        std::fill(wo, wo + c, static_cast<int32_t>((((lo[0] * g.in[1]) + lo[1]) * g.in[2] + lo[2]) * c));
        for (int64_t d = lo[0]; d < hi[0]; ++d)
          for (int64_t h = lo[1]; h < hi[1]; ++h)
            for (int64_t w = lo[2]; w < hi[2]; ++w) {
              const int64_t off = ((d * g.in[1] + h) * g.in[2] + w) * c;
              take_larger(xs + off, static_cast<int32_t>(off), c, yo, wo);
            }
        for (int64_t i = 0; i < c; ++i) wo[i] += static_cast<int32_t>(i);
      });
    }
  });
  const Shape in_shape = x.shape();
  return record("max_pool", y, {x}, [winners, in_shape, in_size, out_size](const Tensor& dy, GradSink& s) {
    Tensor dx = Tensor::empty(in_shape);
    const int64_t batch = in_shape[0];
    parallel_for(0, batch, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        const float* g = dy.data() + b * out_size;
        const int32_t* w = winners.get() + b * out_size;
        float* d = dx.data() + b * in_size;
        std::fill(d, d + in_size, 0.0f);  // here rather than serially up front
        for (int64_t i = 0; i < out_size; ++i) d[w[i]] += g[i];
      }
    });
    s.set(0, dx);
  });
}

Variable avg_pool(const Variable& x, const std::vector<int64_t>& pool, const std::vector<int64_t>& strides,
                  const std::string& padding) {
  const ConvGeometry g = pool_geometry("avg_pool", x.shape(), pool, strides, padding);
  const int64_t c = g.c_in, in_size = g.in_positions() * c, out_size = g.out_positions() * c;
  Tensor y = Tensor::zeros(g.output_shape(c));
  const float* px = x.value().data();
  float* py = y.data();
  parallel_for(0, g.batch, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      for_each_window(g, [&](int64_t p, const int64_t* lo, const int64_t* hi) {
        float* yo = py + b * out_size + p * c;
        const float scale = 1.0f / static_cast<float>((hi[0] - lo[0]) * (hi[1] - lo[1]) * (hi[2] - lo[2]));
        for (int64_t d = lo[0]; d < hi[0]; ++d)
          for (int64_t h = lo[1]; h < hi[1]; ++h)
            for (int64_t w = lo[2]; w < hi[2]; ++w) {
              const float* xi = px + b * in_size + ((d * g.in[1] + h) * g.in[2] + w) * c;
              for (int64_t i = 0; i < c; ++i) yo[i] += xi[i];
            }
        for (int64_t i = 0; i < c; ++i) yo[i] *= scale;
      });
  });
  return record("avg_pool", y, {x}, [g, in_size, out_size, c](const Tensor& dy, GradSink& s) {
    Tensor dx = Tensor::zeros(g.input_shape());
    parallel_for(0, g.batch, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b)
        for_each_window(g, [&](int64_t p, const int64_t* lo, const int64_t* hi) {
          const float* go = dy.data() + b * out_size + p * c;
          const float scale = 1.0f / static_cast<float>((hi[0] - lo[0]) * (hi[1] - lo[1]) * (hi[2] - lo[2]));
          for (int64_t d = lo[0]; d < hi[0]; ++d)
            for (int64_t h = lo[1]; h < hi[1]; ++h)
              for (int64_t w = lo[2]; w < hi[2]; ++w) {
                float* di = dx.data() + b * in_size + ((d * g.in[1] + h) * g.in[2] + w) * c;
                for (int64_t i = 0; i < c; ++i) di[i] += go[i] * scale;
              }
        });
    });
    s.set(0, dx);
  });
}

}  // namespace tapegrad
