// reshape, transpose, permute, concat, slice, reverse: forward and backward (each backward is the inverse
// layout change applied to the gradient).
#include <algorithm>

#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad {

Variable reshape(const Variable& a, const std::vector<int64_t>& shape) {
  const Shape in = a.shape();
  return record("reshape", a.value().reshape(shape), {a},
                [in](const Tensor& g, GradSink& s) { s.set(0, g.reshape(in)); });
}

Variable transpose(const Variable& a) {
  return record("transpose", transpose(a.value()), {a},
                [](const Tensor& g, GradSink& s) { s.set(0, transpose(g)); });
}

Variable permute(const Variable& a, const std::vector<int>& perm) {
  Tensor out = permute(a.value(), perm);  // validates perm
  std::vector<int> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inverse[perm[i]] = static_cast<int>(i);
  return record("permute", out, {a}, [inverse](const Tensor& g, GradSink& s) { s.set(0, permute(g, inverse)); });
}

Variable concat(const std::vector<Variable>& parts, int axis) {
  std::vector<Tensor> values;
  values.reserve(parts.size());
  for (const Variable& p : parts) values.push_back(p.value());
  Tensor out = concat(values, axis);
  const int ax = normalize_axis(axis, out.rank(), "concat");
  std::vector<int64_t> extents;
  for (const Tensor& v : values) extents.push_back(v.shape()[ax]);
  return record("concat", out, parts, [extents, ax](const Tensor& g, GradSink& s) {
    int64_t start = 0;
    for (size_t i = 0; i < extents.size(); ++i) {
      if (s.needs(i)) s.set(i, slice(g, ax, start, start + extents[i]));
      start += extents[i];
    }
  });
}

Variable slice(const Variable& a, int axis, int64_t start, int64_t stop, int64_t step) {
  const Shape in = a.shape();
  Tensor out = slice(a.value(), axis, start, stop, step);  // validates the arguments
  const int ax = normalize_axis(axis, in.rank(), "slice");
  const int64_t first = std::clamp<int64_t>(start < 0 ? start + in[ax] : start, 0, in[ax]);
  return record("slice", out, {a},
                [in, ax, first, step](const Tensor& g, GradSink& s) { s.set(0, unslice(g, in, ax, first, step)); });
}

namespace {
// t with its extent along axis `ax` in reverse order: blocks of `inner` contiguous elements moved.
Tensor reversed(const Tensor& t, int ax) {
  const Shape& sh = t.shape();
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < ax; ++i) outer *= sh[i];
  for (int i = ax + 1; i < sh.rank(); ++i) inner *= sh[i];
  const int64_t n = sh[ax];
  Tensor out = Tensor::empty(sh);
  const float* src = t.data();
  float* dst = out.data();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < n; ++k) std::copy_n(src + (o * n + k) * inner, inner, dst + (o * n + n - 1 - k) * inner);
  return out;
}
}  // namespace

Variable reverse(const Variable& a, int axis) {
  const int ax = normalize_axis(axis, a.rank(), "reverse");
  return record("reverse", reversed(a.value(), ax), {a}, [ax](const Tensor& g, GradSink& s) { s.set(0, reversed(g, ax)); });
}

}  // namespace tapegrad
