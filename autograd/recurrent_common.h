#pragma once
// Internal (not installed): what the recurrent ops (ops_lstm.cpp, ops_gru.cpp, ops_simple_rnn.cpp)
// share around their loops over time: the activations of a gate pass, the go_backwards
// reordering, the matrix of previous states, and deterministic column sums.
#include <cstdint>

#include "tapegrad/autograd/recurrent.h"
#include "tapegrad/core/tensor.h"

namespace tapegrad::recurrent {

// An activation's value, and its derivative written in terms of the value y = f(z) (what the
// forward keeps).
float activate(RecurrentActivation a, float z);
float derivative_from_value(RecurrentActivation a, float y);

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

}  // namespace tapegrad::recurrent
