#include "tapegrad/core/error.h"
#include "tapegrad/layers/recurrent.h"

namespace tapegrad {

namespace {
RecurrentFlags flags_of(const GRUOptions& o) {
  return {o.dropout, o.recurrent_dropout, o.return_sequences, o.return_state, o.go_backwards, o.stateful};
}
}  // namespace

GRU::GRU(int64_t units, GRUOptions options)
    : RecurrentLayer("GRU", options.name, units, flags_of(options), options.activity_regularizer, options.dtype),
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

Variable GRU::forward(const Variable& x, bool /*training*/) {
  const GRUOpOptions op{cell_activation(options_.activation, "activation"),
                        cell_activation(options_.recurrent_activation, "recurrent_activation"), options_.reset_after,
                        go_backwards(), step_mask(x)};
  return sequence_output(gru_sequence(x, kernel_->var, recurrent_kernel_->var, bias_ ? bias_->var : Variable(), {}, op), x);
}

std::shared_ptr<RecurrentLayer> GRU::copy(const std::string& name, bool reverse) const {
  GRUOptions o = options_;
  o.name = name;
  o.dtype = dtype_policy().name();  // the policy this layer took, not the global one of now
  if (reverse) o.go_backwards = !o.go_backwards;
  return std::make_shared<GRU>(units(), o);
}

}  // namespace tapegrad
