#pragma once
// Math on Tensors (no autograd): elementwise ops with NumPy broadcasting, reductions, layout
// changes and matmul. Functions return new tensors (sum_to may return its input as is); inputs
// are never modified. Large tensors are processed in parallel (core/parallel.h); results do not
// depend on the thread count.
#include <vector>

#include "tapegrad/core/dtype.h"
#include "tapegrad/core/tensor.h"

namespace tapegrad {

// ---- elementwise, binary (NumPy broadcasting) ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
// 1.0 where the relation holds, else 0.0.
Tensor greater(const Tensor& a, const Tensor& b);
Tensor equal(const Tensor& a, const Tensor& b);

// ---- elementwise with a scalar ----
Tensor add(const Tensor& a, float s);
Tensor mul(const Tensor& a, float s);
Tensor pow(const Tensor& a, float exponent);

// ---- elementwise, unary ----
Tensor neg(const Tensor& a);
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor abs(const Tensor& a);
Tensor sign(const Tensor& a);
Tensor clip(const Tensor& a, float low, float high);
Tensor relu(const Tensor& a);
Tensor sigmoid(const Tensor& a);
Tensor tanh(const Tensor& a);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& a) { return neg(a); }
inline Tensor operator+(const Tensor& a, float s) { return add(a, s); }
inline Tensor operator*(const Tensor& a, float s) { return mul(a, s); }
inline Tensor operator*(float s, const Tensor& a) { return mul(a, s); }

// Fused gradients of the activations, from the upstream gradient g and the saved output y (one
// pass, one allocation): g * (y > 0), g * y * (1 - y), g * (1 - y^2).
Tensor relu_backward(const Tensor& g, const Tensor& y);
Tensor sigmoid_backward(const Tensor& g, const Tensor& y);
Tensor tanh_backward(const Tensor& g, const Tensor& y);

// In place: a += alpha * b (same shape). The optimizers' and gradient accumulation's workhorse.
void axpy_(Tensor& a, const Tensor& b, float alpha = 1.0f);

// ---- reductions; `axes` may be negative; empty axes = all axes ----
Tensor sum(const Tensor& a, const std::vector<int>& axes = {}, bool keepdims = false);
Tensor mean(const Tensor& a, const std::vector<int>& axes = {}, bool keepdims = false);
Tensor max(const Tensor& a, const std::vector<int>& axes = {}, bool keepdims = false);
// Index of the largest value along `axis` (first one on ties), as floats; the axis is removed.
Tensor argmax(const Tensor& a, int axis = -1);
// Sums `a` down to `shape`, undoing a broadcast from `shape` to a.shape() (gradients use this).
// Returns `a` itself (shared storage) when the shapes already agree.
Tensor sum_to(const Tensor& a, const Shape& shape);
// Scalar helpers, accumulated in double, deterministic.
double sum_all(const Tensor& a);
double squared_norm(const Tensor& a);

// ---- layout (all copy) ----
// Swaps the last two dims (rank >= 2).
Tensor transpose(const Tensor& a);
// Output dim i is input dim perm[i].
Tensor permute(const Tensor& a, const std::vector<int>& perm);
// Elements [start, stop) of `axis` in steps of `step` (> 0); negative start/stop count from the end.
Tensor slice(const Tensor& a, int axis, int64_t start, int64_t stop, int64_t step = 1);
// Joins tensors whose shapes agree except along `axis`.
Tensor concat(const std::vector<Tensor>& parts, int axis);

// ---- matmul ----
// 2-D: (m, k) x (k, n). Batched: (..., m, k) x (..., k, n) with equal batch dims, or a 2-D
// right-hand side shared by every batch. trans_a / trans_b use the transposed last two dims.
// compute bfloat16: operands rounded to bf16, float32 accumulation (tapegrad/core/bf16.h).
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false, Dtype compute = Dtype::float32);

// ---- comparison, for tests and checks ----
bool allclose(const Tensor& a, const Tensor& b, float rtol = 1e-5f, float atol = 1e-8f);

}  // namespace tapegrad

namespace tapegrad {
// Repeats `a` along broadcast dims to `shape` (NumPy broadcast_to, materialised).
Tensor broadcast_to(const Tensor& a, const Shape& shape);
// The inverse of slice(): a zero tensor of `shape` holding `part` at [start::step] of `axis`.
Tensor unslice(const Tensor& part, const Shape& shape, int axis, int64_t start, int64_t step);
}  // namespace tapegrad

namespace tapegrad {
// Rows of `a` (entries of axis 0) in the order given by `indices`: batches from a shuffled order.
Tensor take_rows(const Tensor& a, const std::vector<int64_t>& indices);
}  // namespace tapegrad
