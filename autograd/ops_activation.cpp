// relu, sigmoid, tanh: forward and backward, expressed through the saved output where possible.
#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad {

Variable relu(const Variable& a) {
  Tensor out = relu(a.value());
  return record("relu", out, {a}, [out](const Tensor& g, GradSink& s) {
    s.set(0, relu_backward(g, out));
  });
}

Variable sigmoid(const Variable& a) {
  Tensor out = sigmoid(a.value());
  return record("sigmoid", out, {a}, [out](const Tensor& g, GradSink& s) {
    s.set(0, sigmoid_backward(g, out));  // s' = s (1 - s)
  });
}

Variable tanh(const Variable& a) {
  Tensor out = tanh(a.value());
  return record("tanh", out, {a}, [out](const Tensor& g, GradSink& s) {
    s.set(0, tanh_backward(g, out));  // tanh' = 1 - tanh^2
  });
}

}  // namespace tapegrad
