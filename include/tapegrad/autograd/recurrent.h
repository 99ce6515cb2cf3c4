#pragma once
// Recurrent ops over whole sequences, forward and backward through time in one op each (the
// recurrent layers are built on them). Keras' formulas and weight layouts: an LSTM's kernel is
// (features, 4 units) and its recurrent kernel (units, 4 units), their columns the gates i, f, c, o;
// a GRU's (features, 3 units) and (units, 3 units), the gates z, r, h.
// Each: the input projection of all steps is one GEMM; each step is one recurrent GEMM (two for a
// GRU without reset_after) and one gate pass; the backward through time likewise, the weight
// gradients one GEMM each after it. Parallel over the batch in fixed chunks: results do not
// depend on the number of threads. go_backwards reads the input from its last step and returns
// the outputs in that order (Keras').
//
// Masks (Keras' masking, as backend.rnn does it): `mask` (batch, steps), in the input's step
// order, 1 where a step is read and 0 where it is skipped. At a skipped step the states carry
// over unchanged (each returned step holds the state after it), and nothing flows into the
// weights; the gradient of the state passes through to the step before.
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
  Tensor mask;                // (batch, steps) of 0 and 1, or undefined: every step is read
};

// Keras' LSTM over x (batch, steps, features): for each step t,
//   z = x_t kernel + h kernel_r + bias;  i, f, o = ra(z_i, z_f, z_o);  g = a(z_c)
//   c = f * c + i * g;  h = o * a(c)
// from h0, c0 (batch, units). Returns (batch, steps, 2 units): each step's h, then its c.
Variable lstm_sequence(const Variable& x, const Variable& kernel, const Variable& recurrent_kernel, const Variable& bias,
                       const Variable& h0, const Variable& c0, const LSTMOpOptions& options = {});

struct SimpleRNNOpOptions {
  RecurrentActivation activation = RecurrentActivation::tanh;
  bool go_backwards = false;
  Tensor mask;  // (batch, steps) of 0 and 1, or undefined: every step is read
};

// Keras' SimpleRNN over x (batch, steps, features): h = a(x_t kernel + h recurrent_kernel + bias)
// from h0 (batch, units). kernel (features, units), recurrent_kernel (units, units), bias (units).
// Returns every step's h (batch, steps, units).
Variable simple_rnn_sequence(const Variable& x, const Variable& kernel, const Variable& recurrent_kernel,
                             const Variable& bias, const Variable& h0, const SimpleRNNOpOptions& options = {});

struct GRUOpOptions {
  RecurrentActivation activation = RecurrentActivation::tanh;             // of the candidate
  RecurrentActivation recurrent_activation = RecurrentActivation::sigmoid;  // of the z and r gates
  bool reset_after = true;  // Keras 2's default (and cuDNN's): the reset gate after the recurrent product
  bool go_backwards = false;
  Tensor mask;  // (batch, steps) of 0 and 1, or undefined: every step is read
};

// Keras' GRU over x (batch, steps, features), gates z, r, h in the kernels' column order:
//   reset_after:   x_g = x_t kernel + bias[0];  r_g = h recurrent_kernel + bias[1]  (bias (2, 3 units))
//                  z = ra(x_z + r_z);  r = ra(x_r + r_r);  hh = a(x_h + r * r_h)
//   otherwise:     x_g = x_t kernel + bias  (bias (3 units))
//                  z = ra(x_z + h U_z);  r = ra(x_r + h U_r);  hh = a(x_h + (r * h) U_h)
//   h = z * h + (1 - z) * hh
// from h0 (batch, units); kernel (features, 3 units), recurrent_kernel (units, 3 units).
// Returns every step's h (batch, steps, units).
Variable gru_sequence(const Variable& x, const Variable& kernel, const Variable& recurrent_kernel, const Variable& bias,
                      const Variable& h0, const GRUOpOptions& options = {});

}  // namespace tapegrad
