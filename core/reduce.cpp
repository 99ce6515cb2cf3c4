// Reductions. Every reduction is done one axis at a time as (outer, n, inner): each output
// element is accumulated by one thread in a fixed order, so results never depend on threads.
#include <Eigen/Core>
#include <algorithm>
#include <limits>
#include <set>

#include "tapegrad/core/error.h"
#include "tapegrad/core/parallel.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad {

namespace {

constexpr int64_t kColumnBlock = 256;   // inner columns per task
constexpr int64_t kTaskWork = 1 << 15;  // elements read per task, roughly

enum class Kind { kSum, kMax };

// Reduces one axis of `a` (keeping it as a dim of size 1).
Tensor reduce_axis(const Tensor& a, int axis, Kind kind) {
  const Shape& s = a.shape();
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= s[i];
  for (int i = axis + 1; i < s.rank(); ++i) inner *= s[i];
  const int64_t n = s[axis];
  Shape out_shape = s;
  out_shape[axis] = 1;
  Tensor out = Tensor::empty(out_shape);
  if (n == 0) {
    if (kind == Kind::kMax) fail("max", "cannot reduce the empty axis " + std::to_string(axis) + " of " + s.str());
    out.fill_(0.0f);
    return out;
  }
  const float* src = a.data();
  float* dst = out.data();
  const int64_t col_blocks = (inner + kColumnBlock - 1) / kColumnBlock;
  const int64_t tasks = outer * col_blocks;
  const int64_t grain = std::max<int64_t>(1, kTaskWork / std::max<int64_t>(1, n * std::min(inner, kColumnBlock)));
  parallel_for(0, tasks, grain, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t o = t / col_blocks, c0 = (t % col_blocks) * kColumnBlock;
      const int64_t width = std::min(kColumnBlock, inner - c0);
      const float* base = src + o * n * inner + c0;
      Eigen::Map<Eigen::ArrayXf> acc(dst + o * inner + c0, width);
      if (inner == 1) {  // a contiguous row: Eigen's vectorised reduction
        Eigen::Map<const Eigen::ArrayXf> row(base, n);
        acc(0) = kind == Kind::kSum ? row.sum() : row.maxCoeff();
        continue;
      }
      acc = Eigen::Map<const Eigen::ArrayXf>(base, width);
      for (int64_t k = 1; k < n; ++k) {
        Eigen::Map<const Eigen::ArrayXf> row(base + k * inner, width);
        if (kind == Kind::kSum)
          acc += row;
        else
          acc = acc.max(row);
      }
    }
  });
  return out;
}

std::vector<int> normalize_axes(const std::vector<int>& axes, int rank, const char* op) {
  std::set<int> unique;
  if (axes.empty())
    for (int i = 0; i < rank; ++i) unique.insert(i);
  for (int a : axes)
    if (!unique.insert(normalize_axis(a, rank, op)).second)
      fail(op, "axis " + std::to_string(a) + " is given twice");
  return {unique.begin(), unique.end()};
}

Tensor reduce(const Tensor& a, const std::vector<int>& axes, bool keepdims, Kind kind, const char* op) {
  if (!a.defined()) fail(op, "input tensor is undefined");
  const std::vector<int> ax = normalize_axes(axes, a.rank(), op);
  Tensor r = a;
  for (auto it = ax.rbegin(); it != ax.rend(); ++it) r = reduce_axis(r, *it, kind);
  if (ax.empty()) r = a.clone();
  if (keepdims) return r;
  Shape squeezed;
  for (int i = 0; i < a.rank(); ++i)
    if (!std::binary_search(ax.begin(), ax.end(), i)) squeezed.push_back(a.shape()[i]);
  return r.reshape(squeezed);
}

}  // namespace

Tensor sum(const Tensor& a, const std::vector<int>& axes, bool keepdims) {
  return reduce(a, axes, keepdims, Kind::kSum, "sum");
}

Tensor max(const Tensor& a, const std::vector<int>& axes, bool keepdims) {
  return reduce(a, axes, keepdims, Kind::kMax, "max");
}

Tensor mean(const Tensor& a, const std::vector<int>& axes, bool keepdims) {
  Tensor s = reduce(a, axes, keepdims, Kind::kSum, "mean");
  int64_t count = 1;
  for (int axis : normalize_axes(axes, a.rank(), "mean")) count *= a.shape()[axis];
  if (count == 0) fail("mean", "cannot average over an empty axis of " + a.shape().str());
  return mul(s, 1.0f / static_cast<float>(count));
}

Tensor argmax(const Tensor& a, int axis) {
  if (!a.defined()) fail("argmax", "input tensor is undefined");
  const int ax = normalize_axis(axis, a.rank(), "argmax");
  const Shape& s = a.shape();
  const int64_t n = s[ax];
  if (n == 0) fail("argmax", "axis " + std::to_string(axis) + " of " + s.str() + " is empty");
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < ax; ++i) outer *= s[i];
  for (int i = ax + 1; i < s.rank(); ++i) inner *= s[i];
  Tensor out = Tensor::empty(s.drop(ax, ax + 1));
  const float* src = a.data();
  float* dst = out.data();
  parallel_for(0, outer * inner, std::max<int64_t>(1, kTaskWork / n), [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const float* base = src + (t / inner) * n * inner + t % inner;
      int64_t best = 0;
      for (int64_t k = 1; k < n; ++k)
        if (base[k * inner] > base[best * inner]) best = k;
      dst[t] = static_cast<float>(best);
    }
  });
  return out;
}

Tensor sum_to(const Tensor& a, const Shape& shape) {
  if (a.shape() == shape) return a;
  const int lead = a.rank() - shape.rank();
  if (lead < 0) fail("sum_to", "cannot sum " + a.shape().str() + " down to the larger rank of " + shape.str());
  std::vector<int> axes;
  for (int i = 0; i < a.rank(); ++i) {
    if (i < lead) {
      axes.push_back(i);
    } else if (shape[i - lead] == 1 && a.shape()[i] != 1) {
      axes.push_back(i);
    } else if (shape[i - lead] != a.shape()[i]) {
      fail("sum_to", a.shape().str() + " is not a broadcast of " + shape.str());
    }
  }
  return sum(a, axes, true).reshape(shape);
}

double sum_all(const Tensor& a) {
  const float* p = a.data();
  return deterministic_sum(a.numel(), kTaskWork, [p](int64_t lo, int64_t hi) {
    double s = 0.0;
    for (int64_t i = lo; i < hi; ++i) s += p[i];
    return s;
  });
}

double squared_norm(const Tensor& a) {
  const float* p = a.data();
  return deterministic_sum(a.numel(), kTaskWork, [p](int64_t lo, int64_t hi) {
    double s = 0.0;
    for (int64_t i = lo; i < hi; ++i) s += static_cast<double>(p[i]) * p[i];
    return s;
  });
}

}  // namespace tapegrad
