#pragma once
// Differentiable ops on Variables: the functional API that layers compose. Each op computes its
// forward with core/tensor_ops.h and records a backward on the tape (autograd/tape.h). Binary
// ops broadcast as NumPy does; each input's gradient is summed back to that input's shape.
#include <vector>

#include "tapegrad/autograd/variable.h"

namespace tapegrad {

// ---- arithmetic (autograd/ops_arithmetic.cpp) ----
Variable add(const Variable& a, const Variable& b);
Variable sub(const Variable& a, const Variable& b);
Variable mul(const Variable& a, const Variable& b);
Variable div(const Variable& a, const Variable& b);
Variable neg(const Variable& a);
Variable add(const Variable& a, float s);
Variable mul(const Variable& a, float s);
Variable pow(const Variable& a, float exponent);
Variable pow(const Variable& a, const Variable& exponent);
// Elementwise larger / smaller of a and b; where they tie, the gradient goes to a.
Variable maximum(const Variable& a, const Variable& b);
Variable minimum(const Variable& a, const Variable& b);

inline Variable operator+(const Variable& a, const Variable& b) { return add(a, b); }
inline Variable operator-(const Variable& a, const Variable& b) { return sub(a, b); }
inline Variable operator*(const Variable& a, const Variable& b) { return mul(a, b); }
inline Variable operator/(const Variable& a, const Variable& b) { return div(a, b); }
inline Variable operator-(const Variable& a) { return neg(a); }
inline Variable operator+(const Variable& a, float s) { return add(a, s); }
inline Variable operator+(float s, const Variable& a) { return add(a, s); }
inline Variable operator-(const Variable& a, float s) { return add(a, -s); }
inline Variable operator-(float s, const Variable& a) { return add(neg(a), s); }
inline Variable operator*(const Variable& a, float s) { return mul(a, s); }
inline Variable operator*(float s, const Variable& a) { return mul(a, s); }
inline Variable operator/(const Variable& a, float s) { return mul(a, 1.0f / s); }

// ---- elementwise math (autograd/ops_math.cpp) ----
Variable exp(const Variable& a);
Variable log(const Variable& a);
Variable sqrt(const Variable& a);
Variable abs(const Variable& a);
// Gradient passes where low <= a <= high, as in Keras/TensorFlow.
Variable clip(const Variable& a, float low, float high);

// ---- activations (autograd/ops_activation.cpp, autograd/ops_softmax.cpp) ----
Variable relu(const Variable& a);
Variable sigmoid(const Variable& a);
Variable tanh(const Variable& a);
Variable softmax(const Variable& a, int axis = -1);
Variable log_softmax(const Variable& a, int axis = -1);

// ---- linear algebra (autograd/ops_matmul.cpp) ----
// 2-D or batched, as core matmul: (..., m, k) x (..., k, n), or a 2-D right-hand side.
Variable matmul(const Variable& a, const Variable& b);

// ---- reductions (autograd/ops_reduce.cpp); empty axes = all ----
Variable sum(const Variable& a, const std::vector<int>& axes = {}, bool keepdims = false);
Variable mean(const Variable& a, const std::vector<int>& axes = {}, bool keepdims = false);

// ---- shape (autograd/ops_shape.cpp) ----
Variable reshape(const Variable& a, const std::vector<int64_t>& shape);
Variable transpose(const Variable& a);  // swaps the last two dims
Variable permute(const Variable& a, const std::vector<int>& perm);
Variable concat(const std::vector<Variable>& parts, int axis);
Variable slice(const Variable& a, int axis, int64_t start, int64_t stop, int64_t step = 1);
// The elements in reverse order along `axis` (numpy.flip; Keras' backend.reverse).
Variable reverse(const Variable& a, int axis);

}  // namespace tapegrad
