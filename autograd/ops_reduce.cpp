// sum and mean over axes: forward and backward (the gradient is broadcast back over the axes).
#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad {

namespace {
// The reduced gradient, reshaped to keep the reduced axes as size-1 dims, broadcast back to `in`.
Tensor spread(const Tensor& g, const Shape& in, const std::vector<int>& axes) {
  Shape kept = in;
  if (axes.empty()) {
    for (int i = 0; i < kept.rank(); ++i) kept[i] = 1;
  } else {
    for (int axis : axes) kept[normalize_axis(axis, in.rank(), "sum")] = 1;
  }
  return broadcast_to(g.reshape(kept), in);
}
}  // namespace

Variable sum(const Variable& a, const std::vector<int>& axes, bool keepdims) {
  const Shape in = a.shape();
  return record("sum", sum(a.value(), axes, keepdims), {a},
                [in, axes](const Tensor& g, GradSink& s) { s.set(0, spread(g, in, axes)); });
}

Variable mean(const Variable& a, const std::vector<int>& axes, bool keepdims) {
  const Shape in = a.shape();
  Tensor out = mean(a.value(), axes, keepdims);
  const float scale = static_cast<float>(out.numel()) / static_cast<float>(in.numel());
  return record("mean", out, {a},
                [in, axes, scale](const Tensor& g, GradSink& s) { s.set(0, mul(spread(g, in, axes), scale)); });
}

}  // namespace tapegrad
