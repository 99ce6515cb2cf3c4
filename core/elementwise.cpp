// Elementwise math. Binary ops broadcast as NumPy does; the loop is a template over the
// operation, so the compiler inlines (and vectorises) it: no call per element.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <string>

#include "tapegrad/core/error.h"
#include "tapegrad/core/parallel.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad {

namespace {

constexpr int64_t kGrain = 1 << 15;  // elements per parallel task: big enough to amortise it

void require_defined(const Tensor& t, const char* op) {
  if (!t.defined()) fail(op, "input tensor is undefined");
}

// Broadcast iteration plan: output dims with the input strides (0 where an input broadcasts),
// after merging neighbouring dims that are contiguous in all three tensors.
struct BroadcastPlan {
  int rank = 0;
  int64_t dims[kMaxDims]{};
  int64_t stride_a[kMaxDims]{};
  int64_t stride_b[kMaxDims]{};
};

BroadcastPlan plan_broadcast(const Shape& a, const Shape& b, const Shape& out) {
  BroadcastPlan p;
  const int r = out.rank();
  int64_t sa[kMaxDims], sb[kMaxDims];
  int64_t acc_a = 1, acc_b = 1;
  for (int i = r - 1; i >= 0; --i) {
    const int ia = a.rank() - r + i, ib = b.rank() - r + i;
    const int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    sa[i] = (da == 1 && out[i] != 1) ? 0 : acc_a;
    sb[i] = (db == 1 && out[i] != 1) ? 0 : acc_b;
    acc_a *= da;
    acc_b *= db;
  }
  // Merge dim i into the plan's last dim when both inputs step through them as one.
  for (int i = 0; i < r; ++i) {
    if (out[i] == 1) continue;  // a size-1 dim changes nothing
    if (p.rank > 0) {
      const int j = p.rank - 1;
      if (p.stride_a[j] == sa[i] * out[i] && p.stride_b[j] == sb[i] * out[i]) {
        p.dims[j] *= out[i];
        p.stride_a[j] = sa[i];
        p.stride_b[j] = sb[i];
        continue;
      }
    }
    p.dims[p.rank] = out[i];
    p.stride_a[p.rank] = sa[i];
    p.stride_b[p.rank] = sb[i];
    ++p.rank;
  }
  if (p.rank == 0) {  // scalar output
    p.rank = 1;
    p.dims[0] = 1;
    p.stride_a[0] = p.stride_b[0] = 0;
  }
  return p;
}

template <class F>
void inner_loop(const float* a, int64_t sa, const float* b, int64_t sb, float* out, int64_t n, F f) {
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
  } else if (sa == 1 && sb == 0) {
    const float bv = *b;
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], bv);
  } else if (sa == 0 && sb == 1) {
    const float av = *a;
    for (int64_t i = 0; i < n; ++i) out[i] = f(av, b[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i * sa], b[i * sb]);
  }
}

// out[i] = f(a[i'], b[i'']) where i', i'' are i's positions in a and b under broadcasting.
template <class F>
void broadcast_loop(const Tensor& a, const Tensor& b, Tensor& out, F f) {
  if (out.numel() == 0) return;
  const BroadcastPlan p = plan_broadcast(a.shape(), b.shape(), out.shape());
  const int last = p.rank - 1;
  const int64_t inner = p.dims[last];
  const int64_t rows = out.numel() / inner;
  const float* pa = a.data();
  const float* pb = b.data();
  float* po = out.data();
  if (p.rank == 1) {  // one run (same shapes, or a scalar operand): split the run itself
    const int64_t sa = p.stride_a[0], sb = p.stride_b[0];
    parallel_for(0, inner, kGrain, [&](int64_t lo, int64_t hi) {
      inner_loop(pa + lo * sa, sa, pb + lo * sb, sb, po + lo, hi - lo, f);
    });
    return;
  }
  const int64_t grain_rows = std::max<int64_t>(1, kGrain / inner);
  parallel_for(0, rows, grain_rows, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      // Decompose the row index over the outer dims to find each input's offset.
      int64_t rem = r, off_a = 0, off_b = 0;
      for (int d = last - 1; d >= 0; --d) {
        const int64_t idx = rem % p.dims[d];
        rem /= p.dims[d];
        off_a += idx * p.stride_a[d];
        off_b += idx * p.stride_b[d];
      }
      inner_loop(pa + off_a, p.stride_a[last], pb + off_b, p.stride_b[last], po + r * inner, inner, f);
    }
  });
}

template <class F>
Tensor binary(const Tensor& a, const Tensor& b, const char* op, F f) {
  require_defined(a, op);
  require_defined(b, op);
  Tensor out = Tensor::empty(a.shape() == b.shape() ? a.shape() : broadcast_shapes(a.shape(), b.shape(), op));
  broadcast_loop(a, b, out, f);
  return out;
}

// Unary ops over contiguous memory, chunked for parallelism; `f` maps an Eigen array block.
template <class F>
Tensor unary(const Tensor& a, const char* op, F f) {
  require_defined(a, op);
  Tensor out = Tensor::empty(a.shape());
  const float* src = a.data();
  float* dst = out.data();
  parallel_for(0, a.numel(), kGrain, [&](int64_t lo, int64_t hi) {
    Eigen::Map<const Eigen::ArrayXf> in(src + lo, hi - lo);
    Eigen::Map<Eigen::ArrayXf> res(dst + lo, hi - lo);
    res = f(in);
  });
  return out;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) { return binary(a, b, "add", [](float x, float y) { return x + y; }); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary(a, b, "sub", [](float x, float y) { return x - y; }); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(a, b, "mul", [](float x, float y) { return x * y; }); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(a, b, "div", [](float x, float y) { return x / y; }); }
Tensor pow(const Tensor& a, const Tensor& b) {
  return binary(a, b, "pow", [](float x, float y) { return std::pow(x, y); });
}
Tensor maximum(const Tensor& a, const Tensor& b) {
  return binary(a, b, "maximum", [](float x, float y) { return x >= y ? x : y; });
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return binary(a, b, "minimum", [](float x, float y) { return x <= y ? x : y; });
}
Tensor greater(const Tensor& a, const Tensor& b) {
  return binary(a, b, "greater", [](float x, float y) { return x > y ? 1.0f : 0.0f; });
}
Tensor equal(const Tensor& a, const Tensor& b) {
  return binary(a, b, "equal", [](float x, float y) { return x == y ? 1.0f : 0.0f; });
}

Tensor relu_backward(const Tensor& g, const Tensor& y) {
  return binary(g, y, "relu_backward", [](float gv, float yv) { return yv > 0.0f ? gv : 0.0f; });
}
Tensor sigmoid_backward(const Tensor& g, const Tensor& y) {
  return binary(g, y, "sigmoid_backward", [](float gv, float yv) { return gv * yv * (1.0f - yv); });
}
Tensor tanh_backward(const Tensor& g, const Tensor& y) {
  return binary(g, y, "tanh_backward", [](float gv, float yv) { return gv * (1.0f - yv * yv); });
}

Tensor add(const Tensor& a, float s) {
  return unary(a, "add", [s](const auto& x) { return x + s; });
}
Tensor mul(const Tensor& a, float s) {
  return unary(a, "mul", [s](const auto& x) { return x * s; });
}
Tensor pow(const Tensor& a, float e) {
  if (e == 2.0f) return unary(a, "pow", [](const auto& x) { return x.square(); });
  if (e == 1.0f) return a.clone();
  if (e == 0.5f) return unary(a, "pow", [](const auto& x) { return x.sqrt(); });
  return unary(a, "pow", [e](const auto& x) { return x.pow(e); });
}

Tensor neg(const Tensor& a) {
  return unary(a, "neg", [](const auto& x) { return -x; });
}
Tensor exp(const Tensor& a) {
  return unary(a, "exp", [](const auto& x) { return x.exp(); });
}
Tensor log(const Tensor& a) {
  return unary(a, "log", [](const auto& x) { return x.log(); });
}
Tensor sqrt(const Tensor& a) {
  return unary(a, "sqrt", [](const auto& x) { return x.sqrt(); });
}
Tensor abs(const Tensor& a) {
  return unary(a, "abs", [](const auto& x) { return x.abs(); });
}
Tensor sign(const Tensor& a) {
  return unary(a, "sign", [](const auto& x) { return x.sign(); });
}
Tensor clip(const Tensor& a, float low, float high) {
  if (!(low <= high)) fail("clip", "low (" + std::to_string(low) + ") must not exceed high (" + std::to_string(high) + ")");
  return unary(a, "clip", [low, high](const auto& x) { return x.max(low).min(high); });
}
Tensor relu(const Tensor& a) {
  return unary(a, "relu", [](const auto& x) { return x.max(0.0f); });
}
Tensor sigmoid(const Tensor& a) {
  return unary(a, "sigmoid", [](const auto& x) { return x.logistic(); });
}
Tensor tanh(const Tensor& a) {
  return unary(a, "tanh", [](const auto& x) { return x.tanh(); });
}

Tensor broadcast_to(const Tensor& a, const Shape& shape) {
  require_defined(a, "broadcast_to");
  if (broadcast_shapes(a.shape(), shape, "broadcast_to") != shape)
    fail("broadcast_to", "cannot broadcast " + a.shape().str() + " to " + shape.str());
  Tensor out = Tensor::empty(shape);
  broadcast_loop(a, a, out, [](float x, float) { return x; });
  return out;
}

void axpy_(Tensor& a, const Tensor& b, float alpha) {
  require_defined(a, "axpy_");
  require_defined(b, "axpy_");
  if (a.shape() != b.shape()) fail("axpy_", "shapes " + a.shape().str() + " and " + b.shape().str() + " differ");
  float* dst = a.data();
  const float* src = b.data();
  parallel_for(0, a.numel(), kGrain, [&](int64_t lo, int64_t hi) {
    Eigen::Map<Eigen::ArrayXf> x(dst + lo, hi - lo);
    Eigen::Map<const Eigen::ArrayXf> y(src + lo, hi - lo);
    if (alpha == 1.0f)
      x += y;
    else
      x += alpha * y;
  });
  a.mark_modified();
}

bool allclose(const Tensor& a, const Tensor& b, float rtol, float atol) {
  if (a.shape() != b.shape()) return false;
  const float* x = a.data();
  const float* y = b.data();
  for (int64_t i = 0; i < a.numel(); ++i) {
    if (std::isnan(x[i]) || std::isnan(y[i])) return false;
    if (std::isinf(x[i]) || std::isinf(y[i])) {  // as NumPy: close only to the same infinity
      if (x[i] != y[i]) return false;
      continue;
    }
    if (std::fabs(x[i] - y[i]) > atol + rtol * std::fabs(y[i])) return false;
  }
  return true;
}

}  // namespace tapegrad
