#pragma once
// pointwise_loss: one differentiable op for the losses that are a function of each (y_true,
// y_pred) pair. The forward computes value and d value / d y_pred in one pass, in float32 (so
// Keras' float32 quirks, such as 1 - 1e-7 rounding, are reproduced); the backward multiplies the
// saved derivative by the incoming gradient. y_true is data, never differentiated.
#include <string>
#include <utility>

#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad::losses {

// f(t, p) returns {value, d value / d p}.
template <class F>
Variable pointwise_loss(const char* op, const Tensor& y_true, const Variable& y_pred, F f) {
  if (y_true.shape() != y_pred.shape())
    fail(op, "y_true " + y_true.shape().str() + " and y_pred " + y_pred.shape().str() + " differ");
  const int64_t n = y_pred.numel();
  Tensor value = Tensor::empty(y_pred.shape()), deriv = Tensor::empty(y_pred.shape());
  const float *t = y_true.data(), *p = y_pred.value().data();
  float *v = value.data(), *d = deriv.data();
  for (int64_t i = 0; i < n; ++i) {
    const std::pair<float, float> r = f(t[i], p[i]);
    v[i] = r.first;
    d[i] = r.second;
  }
  return record(op, std::move(value), {y_pred}, [deriv](const Tensor& g, GradSink& sink) { sink.set(0, mul(g, deriv)); });
}

}  // namespace tapegrad::losses
