// softmax and log_softmax along an axis: forward (max-shifted, so large logits do not overflow)
// and backward.
#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad {

namespace {
// x - max(x) along the axis, kept as a broadcastable shape.
Tensor shifted(const Tensor& x, int axis) { return sub(x, max(x, {axis}, true)); }
}  // namespace

Variable softmax(const Variable& a, int axis) {
  const int ax = normalize_axis(axis, a.rank(), "softmax");
  const Tensor e = exp(shifted(a.value(), ax));
  Tensor out = div(e, sum(e, {ax}, true));
  return record("softmax", out, {a}, [out, ax](const Tensor& g, GradSink& s) {
    // dx = y * (g - sum(g * y))
    s.set(0, mul(out, sub(g, sum(mul(g, out), {ax}, true))));
  });
}

Variable log_softmax(const Variable& a, int axis) {
  const int ax = normalize_axis(axis, a.rank(), "log_softmax");
  const Tensor z = shifted(a.value(), ax);
  Tensor out = sub(z, log(sum(exp(z), {ax}, true)));
  return record("log_softmax", out, {a}, [out, ax](const Tensor& g, GradSink& s) {
    // dx = g - softmax(x) * sum(g)
    s.set(0, sub(g, mul(exp(out), sum(g, {ax}, true))));
  });
}

}  // namespace tapegrad
