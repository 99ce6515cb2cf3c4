// relu, sigmoid, tanh: forward and backward, expressed through the saved output where possible.
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "core/tensor_ops.h"

namespace tapegrad {

Variable relu(const Variable& a) {
  Tensor out = relu(a.value());
  return record("relu", out, {a}, [out](const Tensor& g, GradSink& s) {
    s.set(0, mul(g, greater(out, Tensor::scalar(0.0f))));
  });
}

Variable sigmoid(const Variable& a) {
  Tensor out = sigmoid(a.value());
  return record("sigmoid", out, {a}, [out](const Tensor& g, GradSink& s) {
    // s' = s (1 - s)
    s.set(0, mul(g, sub(out, mul(out, out))));
  });
}

Variable tanh(const Variable& a) {
  Tensor out = tanh(a.value());
  return record("tanh", out, {a}, [out](const Tensor& g, GradSink& s) {
    // tanh' = 1 - tanh^2
    s.set(0, sub(g, mul(g, mul(out, out))));
  });
}

}  // namespace tapegrad
