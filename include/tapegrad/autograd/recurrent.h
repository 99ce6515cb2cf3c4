#pragma once
// Recurrent ops over whole sequences, forward and backward through time in one op each (the
// recurrent layers are built on them). Keras' formulas and weight layouts: an LSTM's kernel is
// (features, 4 units) and its recurrent kernel (units, 4 units), their columns the gates i, f, c, o.
#include <string>

#include "tapegrad/autograd/variable.h"

namespace tapegrad {

// The activations a recurrent op applies inside its gate pass, by Keras' name: "tanh",
// "sigmoid", "hard_sigmoid" (Keras 2.15's: clip(0.2 x + 0.5, 0, 1)), "relu", "linear".
enum class RecurrentActivation { tanh, sigmoid, hard_sigmoid, relu, linear };
RecurrentActivation recurrent_activation(const std::string& name, const std::string& owner);

struct LSTMOpOptions {
  RecurrentActivation activation = RecurrentActivation::tanh;             // of the cell input and the output
  RecurrentActivation recurrent_activation = RecurrentActivation::sigmoid;  // of the i, f, o gates
  bool go_backwards = false;  // read the input from its last step; outputs in that order (Keras')
};

// Keras' LSTM over x (batch, steps, features): for each step t,
//   z = x_t kernel + h kernel_r + bias;  i, f, o = ra(z_i, z_f, z_o);  g = a(z_c)
//   c = f * c + i * g;  h = o * a(c)
// from h0, c0 (batch, units). Returns (batch, steps, 2 units): each step's h, then its c.
// The input projection of all steps is one GEMM; each step is one recurrent GEMM and one gate
// pass; the backward through time likewise, the weight gradients one GEMM each after it.
// Parallel over the batch in fixed chunks: results do not depend on the number of threads.
Variable lstm_sequence(const Variable& x, const Variable& kernel, const Variable& recurrent_kernel, const Variable& bias,
                       const Variable& h0, const Variable& c0, const LSTMOpOptions& options = {});

}  // namespace tapegrad
