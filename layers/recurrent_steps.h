#pragma once
// Internal (not installed): one step of Keras' recurrent cells written with tape ops, as Keras'
// cells compute it with `implementation = 1`: each gate takes its own dropped-out copy of the
// input and of the state. The recurrent layers run these step by step where Keras runs its
// cells (in training with recurrent_dropout), and the cell layers are built on them; the fused
// sequence ops (tapegrad/autograd/recurrent.h) serve every other case.
#include <functional>
#include <vector>

#include "tapegrad/autograd/recurrent.h"
#include "tapegrad/autograd/variable.h"
#include "tapegrad/layers/recurrent.h"

namespace tapegrad::recurrent_steps {

struct Weights {
  Variable kernel, recurrent_kernel, bias;  // Keras' layouts; bias may be undefined
};

// Dropout masks, one per gate, the same at every step of a call: on the input (batch, features)
// and on the state (batch, units). Empty: none.
struct Masks {
  std::vector<Tensor> input, recurrent;
};

// x_t (batch, features); returns the new states: LSTM {h, c}, GRU {h}, SimpleRNN {h}.
std::vector<Variable> lstm_step(const Variable& x_t, const std::vector<Variable>& states, const Weights& w,
                                RecurrentActivation activation, RecurrentActivation recurrent_activation, const Masks& masks);
std::vector<Variable> gru_step(const Variable& x_t, const std::vector<Variable>& states, const Weights& w,
                               RecurrentActivation activation, RecurrentActivation recurrent_activation, bool reset_after,
                               const Masks& masks);
std::vector<Variable> simple_rnn_step(const Variable& x_t, const std::vector<Variable>& states, const Weights& w,
                                      RecurrentActivation activation, const Masks& masks);


// A cell's activation by name (the fused ops and the steps know tanh, sigmoid, hard_sigmoid,
// relu, linear); errors name `owner` and `which` option it is.
RecurrentActivation activation_by_name(const Activation& a, const char* which, const std::string& owner);

// dropout and recurrent_dropout must be in [0, 1); the errors name `owner`.
void check_dropout_rates(float dropout, float recurrent_dropout, const std::string& owner);

// An LSTM's bias initializer: with unit_forget_bias, Keras' concatenate(bias_initializer((units,)),
// Ones()((units,)), bias_initializer((2 units,))); else the bias_initializer.
Initializer lstm_bias_initializer(const LSTMOptions& options, int64_t units);

// Keras' backend.rnn around `step` (x_t, states) -> {output, new states...}: reads x from its end
// with go_backwards; where `mask` (batch, steps) skips a step the states stay and the output is
// the previous one (zeros before any step was read). Returns each step's output (batch, steps,
// width), in reading order, and the final states.
struct OverTime {
  Variable outputs;
  std::vector<Variable> states;
};
OverTime run_over_time(const Variable& x, const Tensor& mask, bool go_backwards, std::vector<Variable> states,
                       const std::function<std::vector<Variable>(const Variable&, const std::vector<Variable>&)>& step);

}  // namespace tapegrad::recurrent_steps
