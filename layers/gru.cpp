#include "layers/recurrent_steps.h"
#include "tapegrad/core/error.h"
#include "tapegrad/layers/recurrent.h"

namespace tapegrad {

namespace {
RecurrentFlags flags_of(const GRUOptions& o) {
  return {o.dropout, o.recurrent_dropout, o.return_sequences, o.return_state, o.go_backwards, o.stateful};
}
}  // namespace

GRU::GRU(int64_t units, GRUOptions options)
    : RecurrentLayer("GRU", options.name, units, 1, flags_of(options), options.activity_regularizer, options.dtype),
      options_(std::move(options)) {
  cell_activation(options_.activation, "activation");
  cell_activation(options_.recurrent_activation, "recurrent_activation");
}

void GRU::build_impl(const Shape& input_shape) {
  const int64_t g = 3 * units();
  const Shape bias_shape = !options_.use_bias ? Shape() : options_.reset_after ? Shape({2, g}) : Shape({g});
  add_recurrent_weights(input_shape[1], 3, options_.kernel_initializer, options_.recurrent_initializer,
                        options_.bias_initializer, bias_shape, options_.kernel_regularizer, options_.recurrent_regularizer,
                        options_.bias_regularizer, options_.kernel_constraint, options_.recurrent_constraint,
                        options_.bias_constraint);
}

Variable GRU::sequence(const Variable& x, const std::vector<Variable>& initial, bool training) {
  const RecurrentActivation a = cell_activation(options_.activation, "activation");
  const RecurrentActivation ra = cell_activation(options_.recurrent_activation, "recurrent_activation");
  const bool fused_kernel =
      a == RecurrentActivation::tanh && ra == RecurrentActivation::sigmoid && options_.use_bias && options_.reset_after;
  const CallPlan plan = plan_call(x, training, 3, fused_kernel);
  const Variable bias = bias_ ? bias_->var : Variable();
  if (plan.by_steps) {
    const recurrent_steps::Weights w{kernel_->var, recurrent_kernel_->var, bias};
    const recurrent_steps::Masks masks{plan.input_masks, plan.recurrent_masks};
    const bool reset_after = options_.reset_after;
    auto step = [&](const Variable& x_t, const std::vector<Variable>& s) {
      return recurrent_steps::gru_step(x_t, s, w, a, ra, reset_after, masks);
    };
    return run_steps(plan.x, step, initial);
  }
  const GRUOpOptions op{a, ra, options_.reset_after, go_backwards(), step_mask(x)};
  return gru_sequence(plan.x, kernel_->var, recurrent_kernel_->var, bias, initial.empty() ? Variable() : initial[0], op);
}

std::shared_ptr<RecurrentLayer> GRU::copy(const std::string& name, bool reverse) const {
  GRUOptions o = options_;
  o.name = name;
  o.dtype = dtype_policy().name();  // the policy this layer took, not the global one of now
  if (reverse) o.go_backwards = !o.go_backwards;
  return std::make_shared<GRU>(units(), o);
}

}  // namespace tapegrad
