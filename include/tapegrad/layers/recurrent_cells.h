#pragma once
// Keras' recurrent cells and RNN(cell). A cell is a layer that computes one step: from x_t
// (batch, features) and its states, the step's output and its new states. SimpleRNNCell,
// LSTMCell and GRUCell are Keras 2.15's (the same weights as SimpleRNN, LSTM and GRU, options
// from the same structs; dropout and recurrent_dropout as Keras' cells draw them: one set of masks
// per sequence). RNN(cell) runs any cell over a sequence with Keras' backend.rnn semantics
// (go_backwards, masks, initial states, return_sequences, return_state), step by step on tape
// ops; a cell of one's own derives from RecurrentCell. SimpleRNN, LSTM and GRU compute what
// RNN(their cell) computes, with fused sequence ops.
#include <memory>
#include <string>
#include <vector>

#include "tapegrad/core/rng.h"
#include "tapegrad/layers/recurrent.h"

namespace tapegrad {

class RecurrentCell : public Layer {
 public:
  // Keras' state_size (each state's width) and output_size.
  virtual std::vector<int64_t> state_size() const = 0;
  virtual int64_t output_size() const = 0;
  // One step: x_t (batch, features) and the states (batch, width each) -> {output, new states...}.
  // Built first (build(), or a first call).
  virtual std::vector<Variable> step(const Variable& x_t, const std::vector<Variable>& states, bool training) = 0;
  // Called by RNN before the steps of each sequence (Keras' reset_dropout_mask): a cell that
  // draws dropout masks draws them here, for a batch of `batch`.
  virtual void start_sequence(int64_t batch, bool training) {}

  // A direct call, Keras' `output, states = cell(x_t, states)`: call_all({x_t, states...})
  // returns {output, new states...}; without states they start at zero.
  Shape output_shape(const Shape& input_shape) const override;

 protected:
  using Layer::Layer;
  Variable forward(const Variable& x, bool training) override;
  bool takes_input_list() const override { return true; }
  std::vector<Variable> forward_list(const std::vector<Variable>& inputs, bool training) override;
  std::vector<Shape> output_shapes_list(const std::vector<Shape>& input_shapes) const override;
  void build_list(const std::vector<Shape>& input_shapes, const std::vector<Shape>&) override { build(input_shapes.at(0)); }
};

// What the three built-in cells share: Keras' weights (kernel, recurrent_kernel, bias) and
// dropout masks.
class KerasCell : public RecurrentCell {
 public:
  int64_t units() const { return units_; }
  int64_t output_size() const override { return units_; }
  const ParameterPtr& kernel() const { return kernel_; }
  const ParameterPtr& recurrent_kernel() const { return recurrent_kernel_; }
  const ParameterPtr& bias() const { return bias_; }
  void start_sequence(int64_t batch, bool training) override;

 protected:
  KerasCell(std::string type, const std::string& name, int64_t units, int gates, const RecurrentFlags& flags,
            const std::string& dtype);
  void add_cell_weights(int64_t features, const Initializer& kernel_init, const Initializer& recurrent_init,
                        const Initializer& bias_init, const Shape& bias_shape, const RegularizerOption& kernel_reg,
                        const RegularizerOption& recurrent_reg, const RegularizerOption& bias_reg,
                        const ConstraintOption& kernel_con, const ConstraintOption& recurrent_con,
                        const ConstraintOption& bias_con);
  RecurrentActivation cell_activation(const Activation& a, const char* which) const;
  std::vector<Rng*> own_generators() override;
  ParameterPtr kernel_, recurrent_kernel_, bias_;
  // This sequence's masks, one per gate (empty: none), as Keras' cells draw them.
  std::vector<Tensor> input_masks_, recurrent_masks_;

 private:
  int64_t units_;
  int gates_;
  float dropout_, recurrent_dropout_;
  Rng rng_;
};

// The options are the layers' (SimpleRNNOptions, ...); what belongs to a sequence
// (return_sequences, return_state, go_backwards, stateful) belongs to RNN and is refused here.
class SimpleRNNCell : public KerasCell {
 public:
  TAPEGRAD_LAYER(SimpleRNNCell)
  explicit SimpleRNNCell(int64_t units, SimpleRNNOptions options = {});
  std::vector<int64_t> state_size() const override { return {units()}; }
  std::vector<Variable> step(const Variable& x_t, const std::vector<Variable>& states, bool training) override;
  const SimpleRNNOptions& options() const { return options_; }

 protected:
  void build_impl(const Shape& input_shape) override;

 private:
  SimpleRNNOptions options_;
};

class LSTMCell : public KerasCell {
 public:
  TAPEGRAD_LAYER(LSTMCell)
  explicit LSTMCell(int64_t units, LSTMOptions options = {});
  std::vector<int64_t> state_size() const override { return {units(), units()}; }  // h, c
  std::vector<Variable> step(const Variable& x_t, const std::vector<Variable>& states, bool training) override;
  const LSTMOptions& options() const { return options_; }

 protected:
  void build_impl(const Shape& input_shape) override;

 private:
  LSTMOptions options_;
};

class GRUCell : public KerasCell {
 public:
  TAPEGRAD_LAYER(GRUCell)
  explicit GRUCell(int64_t units, GRUOptions options = {});
  std::vector<int64_t> state_size() const override { return {units()}; }
  std::vector<Variable> step(const Variable& x_t, const std::vector<Variable>& states, bool training) override;
  const GRUOptions& options() const { return options_; }

 protected:
  void build_impl(const Shape& input_shape) override;

 private:
  GRUOptions options_;
};

struct RNNOptions {
  bool return_sequences = false;  // every step's output (batch, steps, output_size), else the last
  bool return_state = false;      // also the final states (call_all)
  bool go_backwards = false;
  std::string name = "";
};

// Keras' RNN(cell): the cell's steps over (batch, steps, features).
class RNN : public Layer {
 public:
  TAPEGRAD_LAYER(RNN)
  explicit RNN(std::shared_ptr<RecurrentCell> cell, RNNOptions options = {});
  const std::shared_ptr<RecurrentCell>& cell() const { return cell_; }
  const RNNOptions& options() const { return options_; }
  MaskSupport mask_support() const override { return MaskSupport::computes; }
  Shape output_shape(const Shape& input_shape) const override;

 protected:
  void build_impl(const Shape& input_shape) override;
  Variable forward(const Variable& x, bool training) override;
  bool takes_input_list() const override { return true; }
  std::vector<Variable> forward_list(const std::vector<Variable>& inputs, bool training) override;
  std::vector<Shape> output_shapes_list(const std::vector<Shape>& input_shapes) const override;
  void build_list(const std::vector<Shape>& input_shapes, const std::vector<Shape>&) override { build(input_shapes.at(0)); }

 private:
  std::shared_ptr<RecurrentCell> cell_;
  RNNOptions options_;
};

}  // namespace tapegrad
