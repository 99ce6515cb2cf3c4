#pragma once
// Internal (not installed): what the recurrent ops (ops_lstm.cpp, ops_gru.cpp, ops_simple_rnn.cpp)
// share around their loops over time: the activations of a gate pass, the go_backwards
// reordering, the matrix of previous states, and deterministic column sums.
#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "tapegrad/autograd/recurrent.h"
#include "tapegrad/autograd/variable.h"
#include "tapegrad/core/tensor.h"

namespace tapegrad::recurrent {

// exp(x) to about 1 ulp (range reduction to |r| <= ln2 / 2, a degree-7 polynomial, 2^n from the
// exponent bits), written as plain arithmetic so that loops over it vectorise: glibc's expf and
// tanhf are a call per element, which was 30% of an LSTM's step. x is clamped to [-87, 88].
inline float exp_approx(float x) {
  // Comparisons rather than fmin/fmax (library calls unless NaN may be ignored); NaN stays NaN.
  x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const float n = (x * 1.44269504088896341f + kRound) - kRound;
  const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;  // x - n ln2, in two parts
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  return p * std::bit_cast<float>(static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23);
}

// An activation's value, and its derivative written in terms of the value y = f(z) (what the
// forward keeps). tanh is 1 - 2 / (e^2z + 1): its absolute error stays below 2e-7 near 0.
inline float activate(RecurrentActivation a, float z) {
  switch (a) {
    case RecurrentActivation::tanh: return 1.0f - 2.0f / (exp_approx(2.0f * z) + 1.0f);
    case RecurrentActivation::sigmoid: return 1.0f / (1.0f + exp_approx(-z));
    case RecurrentActivation::hard_sigmoid: {  // Keras 2.15's
      const float y = 0.2f * z + 0.5f;
      return y < 0.0f ? 0.0f : y > 1.0f ? 1.0f : y;
    }
    case RecurrentActivation::relu: return z > 0.0f ? z : 0.0f;
    case RecurrentActivation::linear: return z;
  }
  return z;
}

inline float derivative_from_value(RecurrentActivation a, float y) {
  switch (a) {
    case RecurrentActivation::tanh: return 1.0f - y * y;
    case RecurrentActivation::sigmoid: return y * (1.0f - y);
    case RecurrentActivation::hard_sigmoid: return y > 0.0f && y < 1.0f ? 0.2f : 0.0f;
    case RecurrentActivation::relu: return y > 0.0f ? 1.0f : 0.0f;
    case RecurrentActivation::linear: return 1.0f;
  }
  return 1.0f;
}

// f(std::integral_constant<RecurrentActivation, a>{}): the activation as a compile-time constant,
// so that a loop calling activate() or derivative_from_value() with it has no switch per element
// and vectorises.
template <class F>
void with_activation(RecurrentActivation a, F&& f) {
  using A = RecurrentActivation;
  switch (a) {
    case A::tanh: return f(std::integral_constant<A, A::tanh>{});
    case A::sigmoid: return f(std::integral_constant<A, A::sigmoid>{});
    case A::hard_sigmoid: return f(std::integral_constant<A, A::hard_sigmoid>{});
    case A::relu: return f(std::integral_constant<A, A::relu>{});
    case A::linear: return f(std::integral_constant<A, A::linear>{});
  }
}

// x[i] = f(x[i] + bias[i]) for i < n (bias may be null), one loop per activation, so each
// vectorises.
void activate_in_place(RecurrentActivation a, float* x, const float* bias, int64_t n);

struct SequenceDims {
  int64_t batch, steps, features, units;
};
// Checks x (batch, steps, features) with at least one step, kernel (features, gates * units) and
// recurrent kernel (units, gates * units); the errors name `op` and the shapes.
SequenceDims check_sequence_shapes(const char* op, const Tensor& x, const Tensor& kernel, const Tensor& recurrent_kernel,
                                   int gates);
// A bias of `shape`, and an initial state (batch, units), when given.
void check_bias(const char* op, const Variable& bias, const Shape& shape);
void check_state(const char* op, const Variable& state, const SequenceDims& d);

// Which steps are read, in processing order: read[b * steps + s] for processing step s (input
// step steps - 1 - s with go_backwards). Empty when the mask is undefined (every step is read).
// The mask must be (batch, steps) of 0 and 1; the errors name `op`.
std::vector<uint8_t> steps_read(const char* op, const Tensor& mask, const SequenceDims& d, bool go_backwards);
// Whether sample b skips processing step s, by steps_read()'s result.
inline bool skipped(const std::vector<uint8_t>& read, int64_t steps, int64_t b, int64_t s) {
  return !read.empty() && !read[static_cast<size_t>(b * steps + s)];
}

// Rows of the batch per task in the step loops: fixed, so the split does not depend on the
// thread count.
constexpr int64_t kRowsPerChunk = 8;

// rows (batch * steps, width), row b * steps + t, with each sample's steps reversed when
// `reverse` (go_backwards: processing step s reads input step steps - 1 - s, and back).
Tensor reorder_steps(const Tensor& rows, int64_t batch, int64_t steps, bool reverse);

// (batch * steps, units): row b * steps + s holds the state before step s: `initial` (batch,
// units) for s = 0, else columns [offset, offset + units) of sequence (batch, steps, width) at s - 1.
Tensor previous_states(const Tensor& sequence, int64_t offset, int64_t units, const Tensor& initial);

// The sums of each column of rows (n, width), in row order in double: the same at any thread count.
Tensor column_sums(const Tensor& rows);

// C (p, q) = A^T B for A (n, p) and B (n, q) with row stride ldb, into c with row stride ldc: a
// block of a weight gradient (a GRU's recurrent kernel without reset_after), in parallel over
// fixed blocks of C's rows.
void add_transposed_product(const Tensor& a, const float* b, int64_t ldb, int64_t q, float* c, int64_t ldc);

}  // namespace tapegrad::recurrent
