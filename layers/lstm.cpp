#include "layers/recurrent_steps.h"
#include "tapegrad/core/error.h"
#include "tapegrad/layers/recurrent.h"

namespace tapegrad {

namespace {
RecurrentFlags flags_of(const LSTMOptions& o) {
  return {o.dropout, o.recurrent_dropout, o.return_sequences, o.return_state, o.go_backwards, o.stateful};
}
}  // namespace

LSTM::LSTM(int64_t units, LSTMOptions options)
    : RecurrentLayer("LSTM", options.name, units, 2, flags_of(options), options.activity_regularizer, options.dtype),
      options_(std::move(options)) {
  cell_activation(options_.activation, "activation");
  cell_activation(options_.recurrent_activation, "recurrent_activation");
}

void LSTM::build_impl(const Shape& input_shape) {
  const int64_t u = units();
  const Initializer bias_init = recurrent_steps::lstm_bias_initializer(options_, u);
  add_recurrent_weights(input_shape[1], 4, options_.kernel_initializer, options_.recurrent_initializer, bias_init,
                        options_.use_bias ? Shape({4 * u}) : Shape(), options_.kernel_regularizer,
                        options_.recurrent_regularizer, options_.bias_regularizer, options_.kernel_constraint,
                        options_.recurrent_constraint, options_.bias_constraint);
}

Variable LSTM::sequence(const Variable& x, const std::vector<Variable>& initial, bool training) {
  const RecurrentActivation a = cell_activation(options_.activation, "activation");
  const RecurrentActivation ra = cell_activation(options_.recurrent_activation, "recurrent_activation");
  const bool fused_kernel = a == RecurrentActivation::tanh && ra == RecurrentActivation::sigmoid && options_.use_bias;
  const CallPlan plan = plan_call(x, training, 4, fused_kernel);
  const Variable bias = bias_ ? bias_->var : Variable();
  if (plan.by_steps) {
    const recurrent_steps::Weights w{kernel_->var, recurrent_kernel_->var, bias};
    const recurrent_steps::Masks masks{plan.input_masks, plan.recurrent_masks};
    auto step = [&](const Variable& x_t, const std::vector<Variable>& s) { return recurrent_steps::lstm_step(x_t, s, w, a, ra, masks); };
    return run_steps(plan.x, step, initial);
  }
  const LSTMOpOptions op{a, ra, go_backwards(), step_mask(x)};
  const Variable h0 = initial.empty() ? Variable() : initial[0], c0 = initial.empty() ? Variable() : initial[1];
  return lstm_sequence(plan.x, kernel_->var, recurrent_kernel_->var, bias, h0, c0, op);
}

std::shared_ptr<RecurrentLayer> LSTM::copy(const std::string& name, bool reverse) const {
  LSTMOptions o = options_;
  o.name = name;
  o.dtype = dtype_policy().name();  // the policy this layer took, not the global one of now
  if (reverse) o.go_backwards = !o.go_backwards;
  return std::make_shared<LSTM>(units(), o);
}

}  // namespace tapegrad
