#pragma once
// LSTM: Keras' LSTM layer over (batch, steps, features), on the fused lstm_sequence op. Weights
// as Keras stores them, so Keras weights load as they are: kernel (features, 4 units),
// recurrent_kernel (units, 4 units), bias (4 units), the gates' columns in the order i, f, c, o.
// unit_forget_bias (Keras' default) starts the forget gate's bias at 1.
// Not yet (refused with a message): dropout and recurrent_dropout, return_state, stateful,
// masking, initial states passed in.
#include "tapegrad/layers/activation.h"
#include "tapegrad/layers/constraint.h"
#include "tapegrad/layers/initializer.h"
#include "tapegrad/layers/layer.h"
#include "tapegrad/layers/regularizer.h"

namespace tapegrad {

struct LSTMOptions {
  Activation activation = "tanh";               // of the cell input and of the cell state for h
  Activation recurrent_activation = "sigmoid";  // of the i, f and o gates
  bool use_bias = true;
  Initializer kernel_initializer = "glorot_uniform";
  Initializer recurrent_initializer = "orthogonal";
  Initializer bias_initializer = "zeros";
  bool unit_forget_bias = true;
  RegularizerOption kernel_regularizer = nullptr;
  RegularizerOption recurrent_regularizer = nullptr;
  RegularizerOption bias_regularizer = nullptr;
  RegularizerOption activity_regularizer = nullptr;
  ConstraintOption kernel_constraint = nullptr;
  ConstraintOption recurrent_constraint = nullptr;
  ConstraintOption bias_constraint = nullptr;
  float dropout = 0.0f;            // not yet: must be 0
  float recurrent_dropout = 0.0f;  // not yet: must be 0
  bool return_sequences = false;   // every step's h (batch, steps, units), else the last (batch, units)
  bool return_state = false;       // not yet
  bool go_backwards = false;       // read the sequence from its end (outputs in that order, as Keras)
  bool stateful = false;           // not yet
  std::string name = "";
  std::string dtype = "";  // a dtype policy; the recurrence computes in float32 under either
};

class LSTM : public Layer {
 public:
  TAPEGRAD_LAYER(LSTM)
  explicit LSTM(int64_t units, LSTMOptions options = {});

  Shape output_shape(const Shape& input_shape) const override;
  int64_t units() const { return units_; }
  const LSTMOptions& options() const { return options_; }
  // The weights; null before build().
  const ParameterPtr& kernel() const { return kernel_; }
  const ParameterPtr& recurrent_kernel() const { return recurrent_kernel_; }
  const ParameterPtr& bias() const { return bias_; }

 protected:
  void build_impl(const Shape& input_shape) override;
  Variable forward(const Variable& x, bool training) override;

 private:
  int64_t units_;
  LSTMOptions options_;
  ParameterPtr kernel_, recurrent_kernel_, bias_;
};

}  // namespace tapegrad
