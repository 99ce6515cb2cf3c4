#pragma once
// Keras' recurrent layers over (batch, steps, features): SimpleRNN, LSTM, GRU, each on its fused
// op (tapegrad/autograd/recurrent.h: the whole sequence forward and backward through time).
// Weights as Keras stores them, so Keras weights load as they are: kernel (features, k units),
// recurrent_kernel (units, k units) and bias, the gates' columns in Keras' order (LSTM i, f, c, o;
// GRU z, r, h); a GRU's bias with reset_after is (2, 3 units): the input's, then the recurrent
// product's. The recurrent kernel starts orthogonal (Keras' default).
// Masks (Embedding with mask_zero, Masking) are read as Keras does: a masked step is skipped, the
// states carry over, and each step's output is the state after it.
// dropout and recurrent_dropout follow Keras' rules for which mask is drawn when (plan_call).
// Initial states come in Keras' list form, layer.call_all({x, h, c}); with return_state,
// call_all returns the output and the final states (LSTM h, c; GRU and SimpleRNN h).
// stateful: each call starts from the last call's final states (one per sample of a fixed batch,
// the first call's), reset_states() forgets them, and checkpoints keep them.
#include <functional>
#include <vector>

#include "tapegrad/autograd/recurrent.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/layers/activation.h"
#include "tapegrad/layers/constraint.h"
#include "tapegrad/layers/initializer.h"
#include "tapegrad/layers/layer.h"
#include "tapegrad/layers/regularizer.h"

namespace tapegrad {

// What every recurrent layer's options hold (each XOptions has these fields).
struct RecurrentFlags {
  float dropout = 0.0f;
  float recurrent_dropout = 0.0f;
  bool return_sequences = false;
  bool return_state = false;
  bool go_backwards = false;
  bool stateful = false;
};

// The part the three layers share: the output of every step (batch, steps, units) or of the last
// (batch, units), shape checks, the weights.
class RecurrentLayer : public Layer {
 public:
  Shape output_shape(const Shape& input_shape) const override;
  // A masked step is skipped: the states carry over (Keras'). The output of every step keeps the
  // input's mask; the last step's output has none.
  MaskSupport mask_support() const override { return MaskSupport::computes; }
  int64_t units() const { return units_; }
  // The weights; null before build().
  const ParameterPtr& kernel() const { return kernel_; }
  const ParameterPtr& recurrent_kernel() const { return recurrent_kernel_; }
  const ParameterPtr& bias() const { return bias_; }
  bool return_sequences() const { return flags_.return_sequences; }
  bool go_backwards() const { return flags_.go_backwards; }
  bool return_state() const { return flags_.return_state; }
  // How many states the cell carries: 2 for an LSTM (h, c), else 1 (h).
  int state_count() const { return state_count_; }
  bool stateful() const { return flags_.stateful; }
  // A stateful layer's states, carried from its last call: empty before the first (and after
  // reset_states()), else state_count() tensors (batch, units).
  const std::vector<Tensor>& states() const { return states_; }
  // Keras' reset_states(values): the states the next call starts from, each (batch, units).
  void reset_states(const std::vector<Tensor>& values);
  using Layer::reset_states;
  // A new, unbuilt layer of the same class and options, called `name`, reading the other way
  // when `reverse` (Bidirectional's forward and backward layers, as Keras recreates them from
  // the layer's config).
  virtual std::shared_ptr<RecurrentLayer> copy(const std::string& name, bool reverse) const = 0;

 protected:
  RecurrentLayer(std::string type, const std::string& name, int64_t units, int state_count, const RecurrentFlags& flags,
                 std::shared_ptr<const Regularizer> activity_regularizer, const std::string& dtype);
  // Every step's states after it, in reading order (batch, steps, states * units): h, then c for
  // an LSTM; from the initial states (each (batch, units); empty: zeros).
  virtual Variable sequence(const Variable& x, const std::vector<Variable>& initial_states, bool training) = 0;
  // The call: x alone, or (Keras' list form, `layer([x, h, c])`) x and the initial states. Returns
  // the output, then with return_state the final states.
  Variable forward(const Variable& x, bool training) override;
  bool takes_input_list() const override { return true; }
  std::vector<Variable> forward_list(const std::vector<Variable>& inputs, bool training) override;
  std::vector<Shape> output_shapes_list(const std::vector<Shape>& input_shapes) const override;
  void build_list(const std::vector<Shape>& input_shapes, const std::vector<Shape>&) override { build(input_shapes.at(0)); }
  // x's mask, checked to be (batch, steps); undefined when x has none.
  Tensor step_mask(const Variable& x) const;
  // Keras' dropout rules for one call. In training with recurrent_dropout, Keras runs its cells
  // step by step (implementation 1): each of the `gates` takes its own input mask (batch,
  // features) and state mask (batch, units), the same at every step. Otherwise the fused op
  // reads x dropped out: element by element where Keras takes its fused kernel (`fused_kernel`:
  // tanh, sigmoid, a bias, and for a GRU reset_after), else with one mask for every step.
  struct CallPlan {
    Variable x;  // what the fused op reads
    bool by_steps = false;
    std::vector<Tensor> input_masks, recurrent_masks;  // per gate, for the steps
  };
  CallPlan plan_call(const Variable& x, bool training, int gates, bool fused_kernel);
  // The step-by-step run over x (go_backwards and x's mask as the fused ops do them), from zero
  // states: each step's h (batch, steps, units), in reading order.
  using Step = std::function<std::vector<Variable>(const Variable& x_t, const std::vector<Variable>& states)>;
  Variable run_steps(const Variable& x, const Step& step, const std::vector<Variable>& initial_states) const;
  std::vector<Rng*> own_generators() override;
  std::vector<CarriedState> own_states() override;
  void reset_own_states() override { states_.clear(); }
  // A cell's activation by name (the fused ops know tanh, sigmoid, hard_sigmoid, relu, linear).
  RecurrentActivation cell_activation(const Activation& a, const char* which) const;
  // The weights for inputs of `features`: kernel (features, gates * units), recurrent_kernel
  // (units, gates * units), and, when bias_shape is not empty, the bias.
  void add_recurrent_weights(int64_t features, int64_t gates, const Initializer& kernel_init,
                             const Initializer& recurrent_init, const Initializer& bias_init, const Shape& bias_shape,
                             const RegularizerOption& kernel_reg, const RegularizerOption& recurrent_reg,
                             const RegularizerOption& bias_reg, const ConstraintOption& kernel_con,
                             const ConstraintOption& recurrent_con, const ConstraintOption& bias_con);
  ParameterPtr kernel_, recurrent_kernel_, bias_;

 private:
  int64_t units_;
  int state_count_;
  RecurrentFlags flags_;
  Rng rng_;  // the dropout masks' (seeded from default_rng() when there is dropout)
  std::vector<Tensor> states_;  // stateful: the last call's final states
};

struct SimpleRNNOptions {
  Activation activation = "tanh";
  bool use_bias = true;
  Initializer kernel_initializer = "glorot_uniform";
  Initializer recurrent_initializer = "orthogonal";
  Initializer bias_initializer = "zeros";
  RegularizerOption kernel_regularizer = nullptr;
  RegularizerOption recurrent_regularizer = nullptr;
  RegularizerOption bias_regularizer = nullptr;
  RegularizerOption activity_regularizer = nullptr;
  ConstraintOption kernel_constraint = nullptr;
  ConstraintOption recurrent_constraint = nullptr;
  ConstraintOption bias_constraint = nullptr;
  float dropout = 0.0f;            // of the input, in training (Keras' rules: RecurrentLayer::plan_call)
  float recurrent_dropout = 0.0f;  // of the state, in training: then the layer runs step by step, as Keras' cells
  bool return_sequences = false;   // every step's h (batch, steps, units), else the last (batch, units)
  bool return_state = false;       // also return the final states (call_all)
  bool go_backwards = false;       // read the sequence from its end (outputs in that order, as Keras)
  bool stateful = false;           // carry the final states into the next call (a fixed batch)
  std::string name = "";
  std::string dtype = "";  // a dtype policy; the recurrence computes in float32 under either
};

class SimpleRNN : public RecurrentLayer {
 public:
  TAPEGRAD_LAYER(SimpleRNN)
  explicit SimpleRNN(int64_t units, SimpleRNNOptions options = {});
  const SimpleRNNOptions& options() const { return options_; }
  std::shared_ptr<RecurrentLayer> copy(const std::string& name, bool reverse) const override;

 protected:
  void build_impl(const Shape& input_shape) override;
  Variable sequence(const Variable& x, const std::vector<Variable>& initial_states, bool training) override;

 private:
  SimpleRNNOptions options_;
};

struct LSTMOptions {
  Activation activation = "tanh";               // of the cell input and of the cell state for h
  Activation recurrent_activation = "sigmoid";  // of the i, f and o gates
  bool use_bias = true;
  Initializer kernel_initializer = "glorot_uniform";
  Initializer recurrent_initializer = "orthogonal";
  Initializer bias_initializer = "zeros";
  bool unit_forget_bias = true;  // the forget gate's bias starts at 1
  RegularizerOption kernel_regularizer = nullptr;
  RegularizerOption recurrent_regularizer = nullptr;
  RegularizerOption bias_regularizer = nullptr;
  RegularizerOption activity_regularizer = nullptr;
  ConstraintOption kernel_constraint = nullptr;
  ConstraintOption recurrent_constraint = nullptr;
  ConstraintOption bias_constraint = nullptr;
  float dropout = 0.0f;            // of the input, in training (Keras' rules: RecurrentLayer::plan_call)
  float recurrent_dropout = 0.0f;  // of the state, in training: then the layer runs step by step, as Keras' cells
  bool return_sequences = false;   // every step's h (batch, steps, units), else the last (batch, units)
  bool return_state = false;       // also return the final states (call_all)
  bool go_backwards = false;       // read the sequence from its end (outputs in that order, as Keras)
  bool stateful = false;           // carry the final states into the next call (a fixed batch)
  std::string name = "";
  std::string dtype = "";  // a dtype policy; the recurrence computes in float32 under either
};

class LSTM : public RecurrentLayer {
 public:
  TAPEGRAD_LAYER(LSTM)
  explicit LSTM(int64_t units, LSTMOptions options = {});
  const LSTMOptions& options() const { return options_; }
  std::shared_ptr<RecurrentLayer> copy(const std::string& name, bool reverse) const override;

 protected:
  void build_impl(const Shape& input_shape) override;
  Variable sequence(const Variable& x, const std::vector<Variable>& initial_states, bool training) override;

 private:
  LSTMOptions options_;
};

struct GRUOptions {
  Activation activation = "tanh";               // of the candidate
  Activation recurrent_activation = "sigmoid";  // of the z and r gates
  bool use_bias = true;
  Initializer kernel_initializer = "glorot_uniform";
  Initializer recurrent_initializer = "orthogonal";
  Initializer bias_initializer = "zeros";
  RegularizerOption kernel_regularizer = nullptr;
  RegularizerOption recurrent_regularizer = nullptr;
  RegularizerOption bias_regularizer = nullptr;
  RegularizerOption activity_regularizer = nullptr;
  ConstraintOption kernel_constraint = nullptr;
  ConstraintOption recurrent_constraint = nullptr;
  ConstraintOption bias_constraint = nullptr;
  float dropout = 0.0f;            // of the input, in training (Keras' rules: RecurrentLayer::plan_call)
  float recurrent_dropout = 0.0f;  // of the state, in training: then the layer runs step by step, as Keras' cells
  bool return_sequences = false;   // every step's h (batch, steps, units), else the last (batch, units)
  bool return_state = false;       // also return the final states (call_all)
  bool go_backwards = false;       // read the sequence from its end (outputs in that order, as Keras)
  bool stateful = false;           // carry the final states into the next call (a fixed batch)
  bool reset_after = true;         // Keras 2's default: the reset gate after the recurrent product
  std::string name = "";
  std::string dtype = "";  // a dtype policy; the recurrence computes in float32 under either
};

class GRU : public RecurrentLayer {
 public:
  TAPEGRAD_LAYER(GRU)
  explicit GRU(int64_t units, GRUOptions options = {});
  const GRUOptions& options() const { return options_; }
  std::shared_ptr<RecurrentLayer> copy(const std::string& name, bool reverse) const override;

 protected:
  void build_impl(const Shape& input_shape) override;
  Variable sequence(const Variable& x, const std::vector<Variable>& initial_states, bool training) override;

 private:
  GRUOptions options_;
};

}  // namespace tapegrad
