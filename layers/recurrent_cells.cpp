#include "tapegrad/layers/recurrent_cells.h"

#include "layers/random_seed.h"
#include "layers/recurrent_steps.h"
#include "tapegrad/autograd/nn_ops.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/error.h"

namespace tapegrad {

// ---- RecurrentCell: a direct call is one step ----

Shape RecurrentCell::output_shape(const Shape& input_shape) const {
  if (input_shape.rank() != 1) fail(label(), "takes one step (batch, features), got " + with_batch_str(input_shape));
  return Shape({output_size()});
}

Variable RecurrentCell::forward(const Variable& x, bool training) { return forward_list({x}, training).at(0); }

std::vector<Shape> RecurrentCell::output_shapes_list(const std::vector<Shape>& input_shapes) const {
  const std::vector<int64_t> sizes = state_size();
  std::vector<Shape> out{output_shape(input_shapes.at(0))};
  if (input_shapes.size() != 1 && input_shapes.size() != sizes.size() + 1)
    fail(label(), "takes a step and its " + std::to_string(sizes.size()) + " states, got " + std::to_string(input_shapes.size() - 1));
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (i + 1 < input_shapes.size() && input_shapes[i + 1] != Shape({sizes[i]}))
      fail(label(), "state " + std::to_string(i) + " " + with_batch_str(input_shapes[i + 1]) + " must be (None, " +
                        std::to_string(sizes[i]) + ")");
    out.push_back(Shape({sizes[i]}));
  }
  return out;
}

std::vector<Variable> RecurrentCell::forward_list(const std::vector<Variable>& inputs, bool training) {
  const Variable& x_t = inputs.at(0);
  std::vector<Variable> states(inputs.begin() + 1, inputs.end());
  if (states.empty())
    for (int64_t w : state_size()) states.emplace_back(Tensor::zeros({x_t.dim(0), w}));
  start_sequence(x_t.dim(0), training);  // a sequence of one step
  return step(x_t, states, training);
}

// ---- the built-in cells ----

KerasCell::KerasCell(std::string type, const std::string& name, int64_t units, int gates, const RecurrentFlags& flags,
                     const std::string& dtype)
    : RecurrentCell(std::move(type), name),
      units_(units),
      gates_(gates),
      dropout_(flags.dropout),
      recurrent_dropout_(flags.recurrent_dropout),
      rng_(flags.dropout > 0.0f || flags.recurrent_dropout > 0.0f ? layer_seed(std::nullopt) : 0) {
  if (units < 1) fail(label(), "units must be positive, got " + std::to_string(units));
  recurrent_steps::check_dropout_rates(flags.dropout, flags.recurrent_dropout, label());
  for (const auto& [what, on] : {std::pair{"return_sequences", flags.return_sequences}, std::pair{"return_state", flags.return_state},
                                 std::pair{"go_backwards", flags.go_backwards}, std::pair{"stateful", flags.stateful}})
    if (on) fail(label(), std::string(what) + " belongs to the RNN layer that runs the cell, not to the cell");
  if (!dtype.empty()) set_dtype_policy(dtype);
}

void KerasCell::add_cell_weights(int64_t features, const Initializer& kernel_init, const Initializer& recurrent_init,
                                 const Initializer& bias_init, const Shape& bias_shape, const RegularizerOption& kernel_reg,
                                 const RegularizerOption& recurrent_reg, const RegularizerOption& bias_reg,
                                 const ConstraintOption& kernel_con, const ConstraintOption& recurrent_con,
                                 const ConstraintOption& bias_con) {
  kernel_ = add_weight("kernel", {features, gates_ * units_}, kernel_init, kernel_reg, kernel_con);
  recurrent_kernel_ = add_weight("recurrent_kernel", {units_, gates_ * units_}, recurrent_init, recurrent_reg, recurrent_con);
  if (bias_shape.rank() > 0) bias_ = add_weight("bias", bias_shape, bias_init, bias_reg, bias_con);
}

RecurrentActivation KerasCell::cell_activation(const Activation& a, const char* which) const {
  return recurrent_steps::activation_by_name(a, which, label());
}

std::vector<Rng*> KerasCell::own_generators() {
  if (dropout_ > 0.0f || recurrent_dropout_ > 0.0f) return {&rng_};
  return {};
}

void KerasCell::start_sequence(int64_t batch, bool training) {
  input_masks_.clear();
  recurrent_masks_.clear();
  if (!training || !kernel_) return;
  const int64_t features = kernel_->var.dim(0);
  // Keras' cells: implementation 1 (forced by recurrent_dropout) draws a mask per gate for the
  // input, then per gate for the state; implementation 2 one input mask for every gate.
  const int input_count = recurrent_dropout_ > 0.0f ? gates_ : 1;
  if (dropout_ > 0.0f)
    for (int q = 0; q < input_count; ++q) input_masks_.push_back(dropout_mask(Shape({batch, features}), dropout_, rng_));
  if (dropout_ > 0.0f && input_count == 1) {
    const Tensor shared = input_masks_[0];
    input_masks_.assign(static_cast<size_t>(gates_), shared);
  }
  if (recurrent_dropout_ > 0.0f)
    for (int q = 0; q < gates_; ++q) recurrent_masks_.push_back(dropout_mask(Shape({batch, units_}), recurrent_dropout_, rng_));
}

namespace {
RecurrentFlags cell_flags(float dropout, float recurrent_dropout, bool return_sequences, bool return_state,
                          bool go_backwards, bool stateful) {
  return {dropout, recurrent_dropout, return_sequences, return_state, go_backwards, stateful};
}
}  // namespace

SimpleRNNCell::SimpleRNNCell(int64_t units, SimpleRNNOptions o)
    : KerasCell("SimpleRNNCell", o.name, units, 1,
                cell_flags(o.dropout, o.recurrent_dropout, o.return_sequences, o.return_state, o.go_backwards, o.stateful), o.dtype),
      options_(std::move(o)) {
  cell_activation(options_.activation, "activation");
  if (options_.activity_regularizer) fail(label(), "activity_regularizer belongs to the RNN layer, not to the cell");
}

void SimpleRNNCell::build_impl(const Shape& input_shape) {
  add_cell_weights(input_shape[0], options_.kernel_initializer, options_.recurrent_initializer, options_.bias_initializer,
                   options_.use_bias ? Shape({units()}) : Shape(), options_.kernel_regularizer, options_.recurrent_regularizer,
                   options_.bias_regularizer, options_.kernel_constraint, options_.recurrent_constraint, options_.bias_constraint);
}

std::vector<Variable> SimpleRNNCell::step(const Variable& x_t, const std::vector<Variable>& states, bool /*training*/) {
  const recurrent_steps::Weights w{kernel_->var, recurrent_kernel_->var, bias_ ? bias_->var : Variable()};
  const auto next = recurrent_steps::simple_rnn_step(x_t, states, w, cell_activation(options_.activation, "activation"),
                                                     {input_masks_, recurrent_masks_});
  return {next[0], next[0]};
}

LSTMCell::LSTMCell(int64_t units, LSTMOptions o)
    : KerasCell("LSTMCell", o.name, units, 4,
                cell_flags(o.dropout, o.recurrent_dropout, o.return_sequences, o.return_state, o.go_backwards, o.stateful), o.dtype),
      options_(std::move(o)) {
  cell_activation(options_.activation, "activation");
  cell_activation(options_.recurrent_activation, "recurrent_activation");
  if (options_.activity_regularizer) fail(label(), "activity_regularizer belongs to the RNN layer, not to the cell");
}

void LSTMCell::build_impl(const Shape& input_shape) {
  add_cell_weights(input_shape[0], options_.kernel_initializer, options_.recurrent_initializer,
                   recurrent_steps::lstm_bias_initializer(options_, units()), options_.use_bias ? Shape({4 * units()}) : Shape(),
                   options_.kernel_regularizer, options_.recurrent_regularizer, options_.bias_regularizer,
                   options_.kernel_constraint, options_.recurrent_constraint, options_.bias_constraint);
}

std::vector<Variable> LSTMCell::step(const Variable& x_t, const std::vector<Variable>& states, bool /*training*/) {
  const recurrent_steps::Weights w{kernel_->var, recurrent_kernel_->var, bias_ ? bias_->var : Variable()};
  const auto next = recurrent_steps::lstm_step(x_t, states, w, cell_activation(options_.activation, "activation"),
                                               cell_activation(options_.recurrent_activation, "recurrent_activation"),
                                               {input_masks_, recurrent_masks_});
  return {next[0], next[0], next[1]};
}

GRUCell::GRUCell(int64_t units, GRUOptions o)
    : KerasCell("GRUCell", o.name, units, 3,
                cell_flags(o.dropout, o.recurrent_dropout, o.return_sequences, o.return_state, o.go_backwards, o.stateful), o.dtype),
      options_(std::move(o)) {
  cell_activation(options_.activation, "activation");
  cell_activation(options_.recurrent_activation, "recurrent_activation");
  if (options_.activity_regularizer) fail(label(), "activity_regularizer belongs to the RNN layer, not to the cell");
}

void GRUCell::build_impl(const Shape& input_shape) {
  const int64_t g = 3 * units();
  const Shape bias_shape = !options_.use_bias ? Shape() : options_.reset_after ? Shape({2, g}) : Shape({g});
  add_cell_weights(input_shape[0], options_.kernel_initializer, options_.recurrent_initializer, options_.bias_initializer,
                   bias_shape, options_.kernel_regularizer, options_.recurrent_regularizer, options_.bias_regularizer,
                   options_.kernel_constraint, options_.recurrent_constraint, options_.bias_constraint);
}

std::vector<Variable> GRUCell::step(const Variable& x_t, const std::vector<Variable>& states, bool /*training*/) {
  const recurrent_steps::Weights w{kernel_->var, recurrent_kernel_->var, bias_ ? bias_->var : Variable()};
  const auto next = recurrent_steps::gru_step(x_t, states, w, cell_activation(options_.activation, "activation"),
                                              cell_activation(options_.recurrent_activation, "recurrent_activation"),
                                              options_.reset_after, {input_masks_, recurrent_masks_});
  return {next[0], next[0]};
}

// ---- RNN(cell) ----

RNN::RNN(std::shared_ptr<RecurrentCell> cell, RNNOptions options) : Layer("RNN", options.name), options_(std::move(options)) {
  if (!cell) fail(label(), "needs a cell");
  cell_ = register_layer(cell);
}

Shape RNN::output_shape(const Shape& input_shape) const {
  if (input_shape.rank() != 2) fail(label(), "expects inputs (batch, steps, features), got " + with_batch_str(input_shape));
  cell_->output_shape(Shape({input_shape[1]}));  // the cell checks its features
  return options_.return_sequences ? Shape({input_shape[0], cell_->output_size()}) : Shape({cell_->output_size()});
}

void RNN::build_impl(const Shape& input_shape) { cell_->build(Shape({input_shape[1]})); }

Variable RNN::forward(const Variable& x, bool training) {
  if (options_.return_state)
    fail(label(), "returns its output and " + std::to_string(cell_->state_size().size()) +
                      " states (return_state): call_all({x}) returns them all");
  return forward_list({x}, training).at(0);
}

std::vector<Shape> RNN::output_shapes_list(const std::vector<Shape>& input_shapes) const {
  const std::vector<int64_t> sizes = cell_->state_size();
  if (input_shapes.size() != 1 && input_shapes.size() != sizes.size() + 1)
    fail(label(), "takes its input and " + std::to_string(sizes.size()) + " initial states, got " +
                      std::to_string(input_shapes.size() - 1));
  std::vector<Shape> out{output_shape(input_shapes.at(0))};
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (i + 1 < input_shapes.size() && input_shapes[i + 1] != Shape({sizes[i]}))
      fail(label(), "initial state " + std::to_string(i) + " " + with_batch_str(input_shapes[i + 1]) + " must be (None, " +
                        std::to_string(sizes[i]) + ")");
    if (options_.return_state) out.push_back(Shape({sizes[i]}));
  }
  return out;
}

std::vector<Variable> RNN::forward_list(const std::vector<Variable>& inputs, bool training) {
  const Variable& x = inputs.at(0);
  const int64_t batch = x.dim(0), steps = x.dim(1);
  std::vector<Variable> states(inputs.begin() + 1, inputs.end());
  if (states.empty())
    for (int64_t w : cell_->state_size()) states.emplace_back(Tensor::zeros({batch, w}));
  const Tensor& mask = x.mask();
  if (mask.defined() && mask.shape() != Shape({batch, steps}))
    fail(label(), "the mask " + mask.shape().str() + " of input " + x.shape().str() + " must be (batch, steps)");
  cell_->start_sequence(batch, training);
  RecurrentCell& cell = *cell_;
  const auto run = recurrent_steps::run_over_time(x, mask, options_.go_backwards, states,
                                                  [&cell, training](const Variable& x_t, const std::vector<Variable>& s) {
                                                    return cell.step(x_t, s, training);
                                                  });
  std::vector<Variable> out;
  if (options_.return_sequences) {
    Variable y = run.outputs;
    if (mask.defined()) y.set_mask(mask);
    out.push_back(y);
  } else {
    out.push_back(reshape(slice(run.outputs, 1, steps - 1, steps), {batch, run.outputs.dim(2)}));
  }
  if (options_.return_state) out.insert(out.end(), run.states.begin(), run.states.end());
  return out;
}

}  // namespace tapegrad
