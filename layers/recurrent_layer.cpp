// What SimpleRNN, LSTM and GRU share: the checks of their options and inputs, their weights, and
// the choice between every step's output and the last.
#include "layers/random_seed.h"
#include "tapegrad/autograd/nn_ops.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/recurrent.h"

namespace tapegrad {

RecurrentLayer::RecurrentLayer(std::string type, const std::string& name, int64_t units, const RecurrentFlags& flags,
                               std::shared_ptr<const Regularizer> activity_regularizer, const std::string& dtype)
    : Layer(std::move(type), name),
      units_(units),
      flags_(flags),
      // Only a layer with dropout draws its seed, so that others do not move later layers' seeds.
      rng_(flags.dropout > 0.0f || flags.recurrent_dropout > 0.0f ? layer_seed(std::nullopt) : 0) {
  if (units < 1) fail(label(), "units must be positive, got " + std::to_string(units));
  for (const auto& [what, rate] : {std::pair{"dropout", flags.dropout}, std::pair{"recurrent_dropout", flags.recurrent_dropout}})
    if (!(rate >= 0.0f && rate < 1.0f)) fail(label(), std::string(what) + " must be in [0, 1), got " + std::to_string(rate));
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

std::vector<Rng*> RecurrentLayer::own_generators() {
  if (flags_.dropout > 0.0f || flags_.recurrent_dropout > 0.0f) return {&rng_};
  return {};
}

RecurrentLayer::CallPlan RecurrentLayer::plan_call(const Variable& x, bool training, int gates, bool fused_kernel) {
  CallPlan plan{x};
  if (!training) return plan;
  const int64_t batch = x.dim(0), features = x.dim(2);
  if (flags_.recurrent_dropout > 0.0f) {  // Keras' cells, implementation 1: masks drawn per gate, input first
    plan.by_steps = true;
    for (int q = 0; q < gates && flags_.dropout > 0.0f; ++q)
      plan.input_masks.push_back(dropout_mask(Shape({batch, features}), flags_.dropout, rng_));
    for (int q = 0; q < gates; ++q)
      plan.recurrent_masks.push_back(dropout_mask(Shape({batch, units_}), flags_.recurrent_dropout, rng_));
    return plan;
  }
  if (flags_.dropout > 0.0f) {
    // Keras' fused kernel drops the whole input sequence element by element; its cells (other
    // activations, no bias) draw one mask for the first step and keep it for every step.
    const Shape mask_shape = fused_kernel ? x.shape() : Shape({batch, 1, features});
    plan.x = apply_mask(x, dropout_mask(mask_shape, flags_.dropout, rng_));
  }
  return plan;
}

Variable RecurrentLayer::run_steps(const Variable& x, const Step& step, int num_states) const {
  const int64_t batch = x.dim(0), steps = x.dim(1), features = x.dim(2);
  const Tensor mask = step_mask(x);
  std::vector<Variable> states(static_cast<size_t>(num_states), Variable(Tensor::zeros({batch, units_})));
  std::vector<Variable> outputs;
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t t = flags_.go_backwards ? steps - 1 - s : s;
    std::vector<Variable> next = step(reshape(slice(x, 1, t, t + 1), {batch, features}), states);
    if (mask.defined()) {  // Keras: where the step is masked, the states stay
      Tensor m = Tensor::empty({batch, 1});
      for (int64_t b = 0; b < batch; ++b) m.data()[b] = mask.data()[b * steps + t];
      const Variable keep(m), drop(sub(Tensor::ones({batch, 1}), m));
      for (size_t i = 0; i < next.size(); ++i) next[i] = add(mul(next[i], keep), mul(states[i], drop));
    }
    states = std::move(next);
    outputs.push_back(reshape(states[0], {batch, 1, units_}));
  }
  return concat(outputs, 1);
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
