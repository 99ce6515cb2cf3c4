#pragma once
// Internal (not installed): what the recurrent ops (ops_lstm.cpp, ops_gru.cpp, ops_simple_rnn.cpp)
// share around their loops over time: the activations of a gate pass, the go_backwards
// reordering, the matrix of previous states, and deterministic column sums.
#include <cstdint>

#include "tapegrad/autograd/recurrent.h"
#include "tapegrad/autograd/variable.h"
#include "tapegrad/core/tensor.h"

namespace tapegrad::recurrent {

// An activation's value, and its derivative written in terms of the value y = f(z) (what the
// forward keeps).
float activate(RecurrentActivation a, float z);
float derivative_from_value(RecurrentActivation a, float y);

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
