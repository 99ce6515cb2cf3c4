// Global pooling, zero padding and nearest upsampling over the spatial dims of channels_last
// inputs: forward and backward.
#include <cstring>
#include <limits>
#include <memory>
#include <string>

#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/pooling.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/parallel.h"

namespace tapegrad {

namespace {

void require_spatial(const char* op, const Shape& x) {
  if (x.rank() < 3 || x.rank() > 5)
    fail(op, "input " + x.str() + " must be (batch, *spatial, channels) with 1 to 3 spatial dims");
}

std::vector<int> spatial_axes(const Shape& x) {
  std::vector<int> axes;
  for (int i = 1; i + 1 < x.rank(); ++i) axes.push_back(i);
  return axes;
}

Shape reduced_shape(const Shape& x, bool keepdims) {
  Shape s{x[0]};
  for (int i = 1; i + 1 < x.rank(); ++i)
    if (keepdims) s.push_back(1);
  s.push_back(x[x.rank() - 1]);
  return s;
}

}  // namespace

Variable global_avg_pool(const Variable& x, bool keepdims) {
  require_spatial("global_avg_pool", x.shape());
  return mean(x, spatial_axes(x.shape()), keepdims);
}

Variable global_max_pool(const Variable& x, bool keepdims) {
  require_spatial("global_max_pool", x.shape());
  const Shape in = x.shape();
  const int64_t batch = in[0], c = in[in.rank() - 1], positions = in.numel() / std::max<int64_t>(1, batch * c);
  if (positions == 0) fail("global_max_pool", "input " + in.str() + " has no spatial positions");
  Tensor y = Tensor::empty(reduced_shape(in, keepdims));
  auto winners = std::make_shared<std::vector<int64_t>>(static_cast<size_t>(batch * c));
  const float* px = x.value().data();
  parallel_for(0, batch, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* yo = y.data() + b * c;
      int64_t* wo = winners->data() + b * c;
      for (int64_t i = 0; i < c; ++i) {
        yo[i] = -std::numeric_limits<float>::infinity();
        wo[i] = b * positions * c + i;
      }
      for (int64_t p = 0; p < positions; ++p) {
        const float* xi = px + (b * positions + p) * c;
        for (int64_t i = 0; i < c; ++i)
          if (xi[i] > yo[i]) {
            yo[i] = xi[i];
            wo[i] = (b * positions + p) * c + i;
          }
      }
    }
  });
  return record("global_max_pool", y, {x}, [winners, in](const Tensor& dy, GradSink& s) {
    Tensor dx = Tensor::zeros(in);
    for (size_t i = 0; i < winners->size(); ++i) dx.data()[(*winners)[i]] += dy.data()[i];
    s.set(0, dx);
  });
}

Variable zero_pad(const Variable& x, const std::vector<std::pair<int64_t, int64_t>>& pads) {
  const char* op = "zero_pad";
  require_spatial(op, x.shape());
  const Shape in = x.shape();
  const int r = in.rank() - 2;
  if (static_cast<int>(pads.size()) != r)
    fail(op, std::to_string(pads.size()) + " (before, after) pairs given for the " + std::to_string(r) +
                 " spatial dims of " + in.str());
  Shape out = in;
  for (int i = 0; i < r; ++i) {
    if (pads[i].first < 0 || pads[i].second < 0) fail(op, "padding must be non-negative for input " + in.str());
    out[1 + i] += pads[i].first + pads[i].second;
  }
  // Pad to 3 spatial dims so one loop serves every rank.
  int64_t in3[3] = {1, 1, 1}, out3[3] = {1, 1, 1}, before3[3] = {0, 0, 0};
  for (int i = 0; i < r; ++i) {
    in3[3 - r + i] = in[1 + i];
    out3[3 - r + i] = out[1 + i];
    before3[3 - r + i] = pads[i].first;
  }
  const int64_t c = in[in.rank() - 1], batch = in[0];
  // Copies rows of `c * in3[2]` floats between the unpadded and the padded layout.
  auto copy_rows = [=](const float* src, float* dst, bool to_padded) {
    parallel_for(0, batch * in3[0] * in3[1], 16, [&](int64_t lo, int64_t hi) {
      for (int64_t t = lo; t < hi; ++t) {
        const int64_t b = t / (in3[0] * in3[1]), d = (t / in3[1]) % in3[0], h = t % in3[1];
        const int64_t padded = ((b * out3[0] + d + before3[0]) * out3[1] + h + before3[1]) * out3[2] + before3[2];
        const float* s = to_padded ? src + t * in3[2] * c : src + padded * c;
        float* o = to_padded ? dst + padded * c : dst + t * in3[2] * c;
        std::memcpy(o, s, static_cast<size_t>(in3[2] * c) * sizeof(float));
      }
    });
  };
  Tensor y = Tensor::zeros(out);
  copy_rows(x.value().data(), y.data(), true);
  return record(op, y, {x}, [copy_rows, in](const Tensor& dy, GradSink& s) {
    Tensor dx = Tensor::empty(in);
    copy_rows(dy.data(), dx.data(), false);
    s.set(0, dx);
  });
}

Variable upsample(const Variable& x, const std::vector<int64_t>& factors) {
  const char* op = "upsample";
  require_spatial(op, x.shape());
  const Shape in = x.shape();
  const int r = in.rank() - 2;
  if (static_cast<int>(factors.size()) != r)
    fail(op, std::to_string(factors.size()) + " factors given for the " + std::to_string(r) + " spatial dims of " + in.str());
  Shape out = in;
  int64_t in3[3] = {1, 1, 1}, f3[3] = {1, 1, 1};
  for (int i = 0; i < r; ++i) {
    if (factors[i] < 1) fail(op, "factors must be positive for input " + in.str());
    out[1 + i] *= factors[i];
    in3[3 - r + i] = in[1 + i];
    f3[3 - r + i] = factors[i];
  }
  const int64_t c = in[in.rank() - 1], batch = in[0];
  const int64_t o1 = in3[1] * f3[1], o2 = in3[2] * f3[2], out_rows = batch * in3[0] * f3[0] * o1;
  Tensor y = Tensor::empty(out);
  const float* px = x.value().data();
  parallel_for(0, out_rows, 16, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {  // t = ((b * out_d) + od) * out_h + oh
      const int64_t oh = t % o1, od = (t / o1) % (in3[0] * f3[0]), b = t / (o1 * in3[0] * f3[0]);
      const float* src = px + ((b * in3[0] + od / f3[0]) * in3[1] + oh / f3[1]) * in3[2] * c;
      float* dst = y.data() + t * o2 * c;
      for (int64_t ow = 0; ow < o2; ++ow) std::memcpy(dst + ow * c, src + (ow / f3[2]) * c, static_cast<size_t>(c) * sizeof(float));
    }
  });
  return record(op, y, {x}, [=](const Tensor& dy, GradSink& s) {
    Tensor dx = Tensor::zeros(in);
    // Each input row gathers its f3[0] * f3[1] * f3[2] copies; rows of one sample never overlap.
    parallel_for(0, batch * in3[0] * in3[1], 16, [&](int64_t lo, int64_t hi) {
      for (int64_t t = lo; t < hi; ++t) {
        const int64_t h = t % in3[1], d = (t / in3[1]) % in3[0], b = t / (in3[1] * in3[0]);
        float* dst = dx.data() + t * in3[2] * c;
        for (int64_t fd = 0; fd < f3[0]; ++fd)
          for (int64_t fh = 0; fh < f3[1]; ++fh) {
            const int64_t row = (b * in3[0] * f3[0] + d * f3[0] + fd) * o1 + h * f3[1] + fh;
            const float* src = dy.data() + row * o2 * c;
            for (int64_t ow = 0; ow < o2; ++ow)
              for (int64_t i = 0; i < c; ++i) dst[(ow / f3[2]) * c + i] += src[ow * c + i];
          }
      }
    });
    s.set(0, dx);
  });
}

}  // namespace tapegrad
