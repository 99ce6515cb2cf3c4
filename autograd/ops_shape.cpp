// reshape, transpose, permute, concat, slice: forward and backward (each backward is the inverse
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

}  // namespace tapegrad
