// What SimpleRNN, LSTM and GRU share: the checks of their options and inputs, their weights,
// Keras' dropout rules (plan_call) and the step-by-step run they call for, and a call's outputs:
// every step's or the last, the final states (return_state), initial states in Keras' list form,
// and the states a stateful layer carries to its next call.
#include "layers/random_seed.h"
#include "layers/recurrent_steps.h"
#include "tapegrad/autograd/nn_ops.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/recurrent.h"

namespace tapegrad {

RecurrentLayer::RecurrentLayer(std::string type, const std::string& name, int64_t units, int state_count, const RecurrentFlags& flags,
                               std::shared_ptr<const Regularizer> activity_regularizer, const std::string& dtype)
    : Layer(std::move(type), name),
      units_(units),
      state_count_(state_count),
      flags_(flags),
      // Only a layer with dropout draws its seed, so that others do not move later layers' seeds.
      rng_(flags.dropout > 0.0f || flags.recurrent_dropout > 0.0f ? layer_seed(std::nullopt) : 0) {
  if (units < 1) fail(label(), "units must be positive, got " + std::to_string(units));
  recurrent_steps::check_dropout_rates(flags.dropout, flags.recurrent_dropout, label());
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

Variable RecurrentLayer::run_steps(const Variable& x, const Step& step, const std::vector<Variable>& initial_states) const {
  const int64_t batch = x.dim(0), steps = x.dim(1), features = x.dim(2);
  const Tensor mask = step_mask(x);
  std::vector<Variable> states = initial_states;
  if (states.empty()) states.assign(static_cast<size_t>(state_count_), Variable(Tensor::zeros({batch, units_})));
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
    outputs.push_back(reshape(concat(states, 1), {batch, 1, state_count_ * units_}));
  }
  return concat(outputs, 1);
}

Variable RecurrentLayer::forward(const Variable& x, bool training) {
  if (flags_.return_state)
    fail(label(), "returns its output and " + std::to_string(state_count_) +
                      " states (return_state): call_all({x}) returns them all");
  return forward_list({x}, training).at(0);
}

std::vector<Shape> RecurrentLayer::output_shapes_list(const std::vector<Shape>& input_shapes) const {
  const size_t given = input_shapes.size() - 1;
  if (given != 0 && given != static_cast<size_t>(state_count_))
    fail(label(), "takes its input and " + std::to_string(state_count_) + " initial state" + (state_count_ > 1 ? "s" : "") +
                      " (" + (state_count_ > 1 ? "h, c" : "h") + "), got " + std::to_string(given));
  for (size_t i = 1; i < input_shapes.size(); ++i)
    if (input_shapes[i] != Shape({units_}))
      fail(label(), "initial state " + std::to_string(i - 1) + " " + with_batch_str(input_shapes[i]) + " must be (None, " +
                        std::to_string(units_) + ")");
  std::vector<Shape> out{output_shape(input_shapes.at(0))};
  if (flags_.return_state) out.resize(1 + static_cast<size_t>(state_count_), Shape({units_}));
  return out;
}

std::vector<RecurrentLayer::CarriedState> RecurrentLayer::own_states() {
  if (!flags_.stateful) return {};
  states_.resize(static_cast<size_t>(state_count_));  // undefined tensors until the first call
  std::vector<CarriedState> out;
  for (Tensor& t : states_) out.push_back({&t, units_});
  return out;
}

void RecurrentLayer::reset_states(const std::vector<Tensor>& values) {
  if (!flags_.stateful) fail(label(), "reset_states needs stateful = true (Keras: \"Layer must be stateful\")");
  if (values.empty()) return states_.clear();
  if (values.size() != static_cast<size_t>(state_count_))
    fail(label(), "expects " + std::to_string(state_count_) + " states, got " + std::to_string(values.size()));
  for (const Tensor& v : values)
    if (v.rank() != 2 || v.dim(1) != units_ || v.dim(0) != values[0].dim(0))
      fail(label(), "a state " + v.shape().str() + " must be (batch, " + std::to_string(units_) + "), one batch for all");
  states_.clear();
  for (const Tensor& v : values) states_.push_back(v.clone());
}

std::vector<Variable> RecurrentLayer::forward_list(const std::vector<Variable>& inputs, bool training) {
  const Variable& x = inputs.at(0);
  std::vector<Variable> initial(inputs.begin() + 1, inputs.end());
  const int64_t batch = x.dim(0), steps = x.dim(1);
  const bool carried = flags_.stateful && !states_.empty() && states_[0].defined();
  if (carried) {
    if (states_[0].dim(0) != batch)
      fail(label(), "is stateful: its states are for a batch of " + std::to_string(states_[0].dim(0)) + ", got a batch of " +
                        std::to_string(batch) + " (" + x.shape().str() + "). Feed batches of one size, or reset_states() first");
    // Keras: given initial states count only while the carried ones are all zero.
    bool nonzero = false;
    for (const Tensor& t : states_)
      for (int64_t k = 0; k < t.numel() && !nonzero; ++k) nonzero = t.data()[k] != 0.0f;
    if (initial.empty() || nonzero) {
      initial.clear();
      for (const Tensor& t : states_) initial.emplace_back(t);  // constants: no gradient into the last call
    }
  }
  const Variable states = sequence(x, initial, training);  // (batch, steps, state_count * units)
  // The last step first (a small slice), then its units: slicing the whole sequence for h alone
  // cost a full-size copy forward and a full-size zero fill backward.
  const Variable last = reshape(slice(states, 1, steps - 1, steps), {batch, state_count_ * units_});
  auto h_part = [this](const Variable& v, int axis) { return state_count_ == 1 ? v : slice(v, axis, 0, units_); };
  const Tensor mask = x.mask();
  Tensor seen;  // (batch, steps, 1): 1 from the first read step on
  if (mask.defined() && !initial.empty()) {
    // Keras' output at a masked step is the previous output, zeros before any step was read;
    // from given states, h there is the initial state: zero it until the first read step.
    seen = Tensor::empty({batch, steps, 1});
    for (int64_t b = 0; b < batch; ++b) {
      bool any = false;
      for (int64_t s = 0; s < steps; ++s) {
        any = any || mask.data()[b * steps + (flags_.go_backwards ? steps - 1 - s : s)] != 0.0f;
        seen.data()[b * steps + s] = any ? 1.0f : 0.0f;
      }
    }
  }
  std::vector<Variable> out;
  if (flags_.return_sequences) {
    Variable h = h_part(states, 2);
    if (seen.defined()) h = mul(h, Variable(seen));
    // Keras' compute_mask: the input's mask as it is (also with go_backwards, whose outputs are
    // in reading order).
    if (mask.defined()) h.set_mask(mask);
    out.push_back(h);
  } else {
    Variable h = h_part(last, 1);
    if (seen.defined()) h = mul(h, Variable(slice(seen, 1, steps - 1, steps).reshape({batch, 1})));
    out.push_back(h);
  }
  if (flags_.return_state || flags_.stateful) {
    std::vector<Tensor> finals;
    for (int k = 0; k < state_count_; ++k) {
      const Variable state = slice(last, 1, k * units_, (k + 1) * units_);
      if (flags_.return_state) out.push_back(state);
      finals.push_back(state.value().clone());
    }
    if (flags_.stateful) states_ = std::move(finals);  // the next call starts here
  }
  return out;
}

RecurrentActivation RecurrentLayer::cell_activation(const Activation& a, const char* which) const {
  return recurrent_steps::activation_by_name(a, which, label());
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
