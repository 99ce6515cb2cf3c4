#include "tapegrad/core/error.h"
#include "tapegrad/layers/recurrent.h"

namespace tapegrad {

namespace {
RecurrentFlags flags_of(const SimpleRNNOptions& o) {
  return {o.dropout, o.recurrent_dropout, o.return_sequences, o.return_state, o.go_backwards, o.stateful};
}
}  // namespace

SimpleRNN::SimpleRNN(int64_t units, SimpleRNNOptions options)
    : RecurrentLayer("SimpleRNN", options.name, units, flags_of(options), options.activity_regularizer, options.dtype),
      options_(std::move(options)) {
  cell_activation(options_.activation, "activation");
}

void SimpleRNN::build_impl(const Shape& input_shape) {
  add_recurrent_weights(input_shape[1], 1, options_.kernel_initializer, options_.recurrent_initializer,
                        options_.bias_initializer, options_.use_bias ? Shape({units()}) : Shape(),
                        options_.kernel_regularizer, options_.recurrent_regularizer, options_.bias_regularizer,
                        options_.kernel_constraint, options_.recurrent_constraint, options_.bias_constraint);
}

Variable SimpleRNN::forward(const Variable& x, bool /*training*/) {
  const SimpleRNNOpOptions op{cell_activation(options_.activation, "activation"), go_backwards()};
  return sequence_output(simple_rnn_sequence(x, kernel_->var, recurrent_kernel_->var, bias_ ? bias_->var : Variable(), {}, op));
}

}  // namespace tapegrad
