#include "layers/recurrent_steps.h"
#include "tapegrad/core/error.h"
#include "tapegrad/layers/recurrent.h"

namespace tapegrad {

namespace {
RecurrentFlags flags_of(const SimpleRNNOptions& o) {
  return {o.dropout, o.recurrent_dropout, o.return_sequences, o.return_state, o.go_backwards, o.stateful};
}
}  // namespace

SimpleRNN::SimpleRNN(int64_t units, SimpleRNNOptions options)
    : RecurrentLayer("SimpleRNN", options.name, units, 1, flags_of(options), options.activity_regularizer, options.dtype),
      options_(std::move(options)) {
  cell_activation(options_.activation, "activation");
}

void SimpleRNN::build_impl(const Shape& input_shape) {
  add_recurrent_weights(input_shape[1], 1, options_.kernel_initializer, options_.recurrent_initializer,
                        options_.bias_initializer, options_.use_bias ? Shape({units()}) : Shape(),
                        options_.kernel_regularizer, options_.recurrent_regularizer, options_.bias_regularizer,
                        options_.kernel_constraint, options_.recurrent_constraint, options_.bias_constraint);
}

Variable SimpleRNN::sequence(const Variable& x, const std::vector<Variable>& initial, bool training) {
  const RecurrentActivation a = cell_activation(options_.activation, "activation");
  const CallPlan plan = plan_call(x, training, 1, /*fused_kernel=*/false);  // Keras has no fused SimpleRNN
  const Variable bias = bias_ ? bias_->var : Variable();
  if (plan.by_steps) {
    const recurrent_steps::Weights w{kernel_->var, recurrent_kernel_->var, bias};
    const recurrent_steps::Masks masks{plan.input_masks, plan.recurrent_masks};
    auto step = [&](const Variable& x_t, const std::vector<Variable>& s) { return recurrent_steps::simple_rnn_step(x_t, s, w, a, masks); };
    return run_steps(plan.x, step, initial);
  }
  const SimpleRNNOpOptions op{a, go_backwards(), step_mask(x)};
  return simple_rnn_sequence(plan.x, kernel_->var, recurrent_kernel_->var, bias, initial.empty() ? Variable() : initial[0], op);
}

std::shared_ptr<RecurrentLayer> SimpleRNN::copy(const std::string& name, bool reverse) const {
  SimpleRNNOptions o = options_;
  o.name = name;
  o.dtype = dtype_policy().name();  // the policy this layer took, not the global one of now
  if (reverse) o.go_backwards = !o.go_backwards;
  return std::make_shared<SimpleRNN>(units(), o);
}

}  // namespace tapegrad
