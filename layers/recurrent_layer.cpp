// What SimpleRNN, LSTM and GRU share: the checks of their options and inputs, their weights, and
// the choice between every step's output and the last.
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/error.h"
#include "tapegrad/layers/recurrent.h"

namespace tapegrad {

RecurrentLayer::RecurrentLayer(std::string type, const std::string& name, int64_t units, const RecurrentFlags& flags,
                               std::shared_ptr<const Regularizer> activity_regularizer, const std::string& dtype)
    : Layer(std::move(type), name), units_(units), flags_(flags) {
  if (units < 1) fail(label(), "units must be positive, got " + std::to_string(units));
  if (flags.dropout != 0.0f || flags.recurrent_dropout != 0.0f)
    fail(label(), "dropout and recurrent_dropout are not supported yet (got " + std::to_string(flags.dropout) + " and " +
                      std::to_string(flags.recurrent_dropout) + "); put a Dropout layer before it instead");
  if (flags.return_state) fail(label(), "return_state is not supported yet");
  if (flags.stateful) fail(label(), "stateful is not supported yet");
  set_activity_regularizer(std::move(activity_regularizer));
  if (!dtype.empty()) set_dtype_policy(dtype);
}

Shape RecurrentLayer::output_shape(const Shape& input_shape) const {
  if (input_shape.rank() != 2 || input_shape[0] < 1 || input_shape[1] < 1)
    fail(label(), "expects inputs (batch, steps, features), got " + with_batch_str(input_shape));
  if (built() && input_shape[1] != kernel_->var.dim(0))
    fail(label(), "input " + with_batch_str(input_shape) + " has " + std::to_string(input_shape[1]) +
                      " features, the layer was built for " + std::to_string(kernel_->var.dim(0)));
  return flags_.return_sequences ? Shape({input_shape[0], units_}) : Shape({units_});
}

Tensor RecurrentLayer::step_mask(const Variable& x) const {
  const Tensor& m = x.mask();
  if (m.defined() && m.shape() != Shape({x.dim(0), x.dim(1)}))
    fail(label(), "the mask " + m.shape().str() + " of input " + x.shape().str() + " must be (batch, steps)");
  return m;
}

Variable RecurrentLayer::sequence_output(const Variable& hs, const Variable& x) const {
  Variable h = hs.dim(2) == units_ ? hs : slice(hs, 2, 0, units_);
  if (flags_.return_sequences) {
    // Keras' compute_mask: the input's mask as it is (also with go_backwards, whose outputs are
    // in reading order).
    if (x.mask().defined()) h.set_mask(x.mask());
    return h;
  }
  const int64_t steps = hs.dim(1);
  return reshape(slice(h, 1, steps - 1, steps), {hs.dim(0), units_});
}

RecurrentActivation RecurrentLayer::cell_activation(const Activation& a, const char* which) const {
  if (!a.named())
    fail(label(), std::string(which) + " '" + a.name() + "' was made from a function or with arguments; a recurrent cell takes one by name");
  return recurrent_activation(a.name(), label());
}

void RecurrentLayer::add_recurrent_weights(int64_t features, int64_t gates, const Initializer& kernel_init,
                                           const Initializer& recurrent_init, const Initializer& bias_init,
                                           const Shape& bias_shape, const RegularizerOption& kernel_reg,
                                           const RegularizerOption& recurrent_reg, const RegularizerOption& bias_reg,
                                           const ConstraintOption& kernel_con, const ConstraintOption& recurrent_con,
                                           const ConstraintOption& bias_con) {
  kernel_ = add_weight("kernel", {features, gates * units_}, kernel_init, kernel_reg, kernel_con);
  recurrent_kernel_ = add_weight("recurrent_kernel", {units_, gates * units_}, recurrent_init, recurrent_reg, recurrent_con);
  if (bias_shape.rank() > 0) bias_ = add_weight("bias", bias_shape, bias_init, bias_reg, bias_con);
}

}  // namespace tapegrad
