#include "tapegrad/layers/lstm.h"

#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/recurrent.h"
#include "tapegrad/core/error.h"

namespace tapegrad {

namespace {

RecurrentActivation gate_activation(const Activation& a, const std::string& owner, const char* which) {
  if (!a.named())
    fail(owner, std::string(which) + " '" + a.name() + "' was made from a function or with arguments; a recurrent cell takes one by name");
  return recurrent_activation(a.name(), owner);
}

}  // namespace

LSTM::LSTM(int64_t units, LSTMOptions options) : Layer("LSTM", options.name), units_(units), options_(std::move(options)) {
  if (units < 1) fail(label(), "units must be positive, got " + std::to_string(units));
  gate_activation(options_.activation, label(), "activation");
  gate_activation(options_.recurrent_activation, label(), "recurrent_activation");
  if (options_.dropout != 0.0f || options_.recurrent_dropout != 0.0f)
    fail(label(), "dropout and recurrent_dropout are not supported yet (got " + std::to_string(options_.dropout) + " and " +
                      std::to_string(options_.recurrent_dropout) + "); put a Dropout layer before the LSTM instead");
  if (options_.return_state) fail(label(), "return_state is not supported yet");
  if (options_.stateful) fail(label(), "stateful is not supported yet");
  set_activity_regularizer(options_.activity_regularizer);
  if (!options_.dtype.empty()) set_dtype_policy(options_.dtype);
}

Shape LSTM::output_shape(const Shape& input_shape) const {
  if (input_shape.rank() != 2 || input_shape[0] < 1 || input_shape[1] < 1)
    fail(label(), "expects inputs (batch, steps, features), got " + with_batch_str(input_shape));
  if (built() && input_shape[1] != kernel_->var.dim(0))
    fail(label(), "input " + with_batch_str(input_shape) + " has " + std::to_string(input_shape[1]) +
                      " features, the layer was built for " + std::to_string(kernel_->var.dim(0)));
  return options_.return_sequences ? Shape({input_shape[0], units_}) : Shape({units_});
}

void LSTM::build_impl(const Shape& input_shape) {
  const int64_t features = input_shape[1], u = units_;
  kernel_ = add_weight("kernel", {features, 4 * u}, options_.kernel_initializer, options_.kernel_regularizer,
                       options_.kernel_constraint);
  recurrent_kernel_ = add_weight("recurrent_kernel", {u, 4 * u}, options_.recurrent_initializer,
                                 options_.recurrent_regularizer, options_.recurrent_constraint);
  if (!options_.use_bias) return;
  Initializer bias_init = options_.bias_initializer;
  if (options_.unit_forget_bias) {
    // Keras: concatenate(bias_initializer((units,)), Ones()((units,)), bias_initializer((2 units,))).
    bias_init = Initializer(
        [init = options_.bias_initializer, u](const Shape&, Rng& rng) {
          const Tensor i = init(Shape({u}), rng), rest = init(Shape({2 * u}), rng);
          Tensor b = Tensor::empty({4 * u});
          std::copy_n(i.data(), u, b.data());
          std::fill_n(b.data() + u, u, 1.0f);
          std::copy_n(rest.data(), 2 * u, b.data() + 2 * u);
          return b;
        },
        "unit_forget_bias");
  }
  bias_ = add_weight("bias", {4 * u}, bias_init, options_.bias_regularizer, options_.bias_constraint);
}

Variable LSTM::forward(const Variable& x, bool /*training*/) {
  LSTMOpOptions op;
  op.activation = gate_activation(options_.activation, label(), "activation");
  op.recurrent_activation = gate_activation(options_.recurrent_activation, label(), "recurrent_activation");
  op.go_backwards = options_.go_backwards;
  const Variable out = lstm_sequence(x, kernel_->var, recurrent_kernel_->var, bias_ ? bias_->var : Variable(), {}, {}, op);
  const Variable h = slice(out, 2, 0, units_);  // (batch, steps, units)
  if (options_.return_sequences) return h;
  const int64_t steps = x.dim(1);
  return reshape(slice(h, 1, steps - 1, steps), {x.dim(0), units_});
}

}  // namespace tapegrad
