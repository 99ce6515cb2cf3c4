// add, sub, mul, div, neg, pow, maximum, minimum: forward and backward. Broadcast inputs get their gradient summed
// back to their own shape (sum_to).
#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad {

Variable add(const Variable& a, const Variable& b) {
  const Shape sa = a.shape(), sb = b.shape();
  return record("add", add(a.value(), b.value()), {a, b}, [sa, sb](const Tensor& g, GradSink& s) {
    if (s.needs(0)) s.set(0, sum_to(g, sa));
    if (s.needs(1)) s.set(1, sum_to(g, sb));
  });
}

Variable sub(const Variable& a, const Variable& b) {
  const Shape sa = a.shape(), sb = b.shape();
  return record("sub", sub(a.value(), b.value()), {a, b}, [sa, sb](const Tensor& g, GradSink& s) {
    if (s.needs(0)) s.set(0, sum_to(g, sa));
    if (s.needs(1)) s.set(1, neg(sum_to(g, sb)));
  });
}

Variable mul(const Variable& a, const Variable& b) {
  const Tensor x = a.value(), y = b.value();
  return record("mul", mul(x, y), {a, b}, [x, y](const Tensor& g, GradSink& s) {
    if (s.needs(0)) s.set(0, sum_to(mul(g, y), x.shape()));
    if (s.needs(1)) s.set(1, sum_to(mul(g, x), y.shape()));
  });
}

Variable div(const Variable& a, const Variable& b) {
  const Tensor x = a.value(), y = b.value();
  Tensor out = div(x, y);
  return record("div", out, {a, b}, [x, y, out](const Tensor& g, GradSink& s) {
    const Tensor g_over_y = div(g, y);
    if (s.needs(0)) s.set(0, sum_to(g_over_y, x.shape()));
    // d(x/y)/dy = -(x/y)/y
    if (s.needs(1)) s.set(1, neg(sum_to(mul(g_over_y, out), y.shape())));
  });
}

Variable neg(const Variable& a) {
  return record("neg", neg(a.value()), {a}, [](const Tensor& g, GradSink& s) { s.set(0, neg(g)); });
}

Variable add(const Variable& a, float c) {
  return record("add", add(a.value(), c), {a}, [](const Tensor& g, GradSink& s) { s.set(0, g); });
}

Variable mul(const Variable& a, float c) {
  return record("mul", mul(a.value(), c), {a}, [c](const Tensor& g, GradSink& s) { s.set(0, mul(g, c)); });
}

Variable pow(const Variable& a, float p) {
  const Tensor x = a.value();
  return record("pow", pow(x, p), {a}, [x, p](const Tensor& g, GradSink& s) {
    s.set(0, mul(g, mul(pow(x, p - 1.0f), p)));
  });
}

Variable pow(const Variable& a, const Variable& e) {
  const Tensor x = a.value(), y = e.value();
  Tensor out = pow(x, y);
  return record("pow", out, {a, e}, [x, y, out](const Tensor& g, GradSink& s) {
    if (s.needs(0)) s.set(0, sum_to(mul(g, mul(y, pow(x, add(y, -1.0f)))), x.shape()));
    if (s.needs(1)) s.set(1, sum_to(mul(g, mul(out, log(x))), y.shape()));
  });
}

namespace {
// The gradient of an elementwise choice between a and b: to a where `a_wins` is 1, else to b.
void choice_backward(const Tensor& g, const Tensor& a_wins, const Shape& sa, const Shape& sb, GradSink& s) {
  if (s.needs(0)) s.set(0, sum_to(mul(g, a_wins), sa));
  if (s.needs(1)) s.set(1, sum_to(mul(g, add(neg(a_wins), 1.0f)), sb));
}
}  // namespace

// Ties go to a, as TensorFlow's gradients of maximum and minimum do.
Variable maximum(const Variable& a, const Variable& b) {
  const Tensor x = a.value(), y = b.value();
  return record("maximum", maximum(x, y), {a, b}, [x, y](const Tensor& g, GradSink& s) {
    choice_backward(g, add(neg(greater(y, x)), 1.0f), x.shape(), y.shape(), s);  // x >= y
  });
}

Variable minimum(const Variable& a, const Variable& b) {
  const Tensor x = a.value(), y = b.value();
  return record("minimum", minimum(x, y), {a, b}, [x, y](const Tensor& g, GradSink& s) {
    choice_backward(g, add(neg(greater(x, y)), 1.0f), x.shape(), y.shape(), s);  // x <= y
  });
}

}  // namespace tapegrad
