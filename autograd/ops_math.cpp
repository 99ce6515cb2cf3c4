// exp, log, sqrt, abs, clip: forward and backward.
#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad {

Variable exp(const Variable& a) {
  Tensor out = exp(a.value());
  return record("exp", out, {a}, [out](const Tensor& g, GradSink& s) { s.set(0, mul(g, out)); });
}

Variable log(const Variable& a) {
  const Tensor x = a.value();
  return record("log", log(x), {a}, [x](const Tensor& g, GradSink& s) { s.set(0, div(g, x)); });
}

Variable sqrt(const Variable& a) {
  Tensor out = sqrt(a.value());
  return record("sqrt", out, {a}, [out](const Tensor& g, GradSink& s) { s.set(0, mul(div(g, out), 0.5f)); });
}

Variable abs(const Variable& a) {
  const Tensor x = a.value();
  return record("abs", abs(x), {a}, [x](const Tensor& g, GradSink& s) { s.set(0, mul(g, sign(x))); });
}

Variable clip(const Variable& a, float low, float high) {
  const Tensor x = a.value();
  Tensor out = clip(x, low, high);
  return record("clip", out, {a}, [x, out](const Tensor& g, GradSink& s) {
    // Inside [low, high] the clipped value equals the input: that is where the gradient passes.
    s.set(0, mul(g, equal(out, x)));
  });
}

}  // namespace tapegrad
