#include "layers/recurrent_steps.h"

#include "tapegrad/autograd/nn_ops.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad::recurrent_steps {

namespace {

Variable activate(RecurrentActivation a, const Variable& z) {
  switch (a) {
    case RecurrentActivation::tanh: return tanh(z);
    case RecurrentActivation::sigmoid: return sigmoid(z);
    case RecurrentActivation::hard_sigmoid: return clip(add(mul(z, 0.2f), 0.5f), 0.0f, 1.0f);  // Keras 2.15's
    case RecurrentActivation::relu: return relu(z);
    case RecurrentActivation::linear: return z;
  }
  return z;
}

// Gate q's columns [q units, (q + 1) units) of a weight (rows, gates units), or of a bias.
Variable gate_columns(const Variable& w, int64_t q, int64_t units) { return slice(w, w.rank() - 1, q * units, (q + 1) * units); }

// v, dropped out with gate q's mask when there is one.
Variable masked(const Variable& v, const std::vector<Tensor>& masks, size_t q) {
  return masks.empty() ? v : apply_mask(v, masks.at(q));
}

// (x_t with gate q's input mask) W_q + bias_q.
Variable input_part(const Variable& x_t, const Variable& kernel, const Variable& bias, const Masks& m, int64_t q,
                    int64_t units) {
  const Variable z = matmul(masked(x_t, m.input, static_cast<size_t>(q)), gate_columns(kernel, q, units));
  return bias.defined() ? add(z, gate_columns(bias, q, units)) : z;
}

// (h with gate q's recurrent mask) U_q.
Variable recurrent_part(const Variable& h, const Variable& recurrent_kernel, const Masks& m, int64_t q, int64_t units) {
  return matmul(masked(h, m.recurrent, static_cast<size_t>(q)), gate_columns(recurrent_kernel, q, units));
}

}  // namespace

std::vector<Variable> lstm_step(const Variable& x_t, const std::vector<Variable>& states, const Weights& w,
                                RecurrentActivation activation, RecurrentActivation recurrent_activation, const Masks& m) {
  const int64_t units = w.recurrent_kernel.dim(0);
  const Variable &h = states.at(0), &c = states.at(1);
  auto gate = [&](int64_t q) {
    return add(input_part(x_t, w.kernel, w.bias, m, q, units), recurrent_part(h, w.recurrent_kernel, m, q, units));
  };
  const Variable i = activate(recurrent_activation, gate(0)), f = activate(recurrent_activation, gate(1));
  const Variable g = activate(activation, gate(2)), o = activate(recurrent_activation, gate(3));
  const Variable c_new = add(mul(f, c), mul(i, g));
  return {mul(o, activate(activation, c_new)), c_new};
}

std::vector<Variable> gru_step(const Variable& x_t, const std::vector<Variable>& states, const Weights& w,
                               RecurrentActivation activation, RecurrentActivation recurrent_activation, bool reset_after,
                               const Masks& m) {
  const int64_t units = w.recurrent_kernel.dim(0);
  const Variable& h = states.at(0);
  // With reset_after the bias is (2, 3 units): the input's row, then the recurrent product's.
  Variable input_bias = w.bias, recurrent_bias;
  if (reset_after && w.bias.defined()) {
    input_bias = reshape(slice(w.bias, 0, 0, 1), {3 * units});
    recurrent_bias = reshape(slice(w.bias, 0, 1, 2), {3 * units});
  }
  auto x_part = [&](int64_t q) { return input_part(x_t, w.kernel, input_bias, m, q, units); };
  auto h_part = [&](int64_t q) {
    const Variable r = recurrent_part(h, w.recurrent_kernel, m, q, units);
    return recurrent_bias.defined() ? add(r, gate_columns(recurrent_bias, q, units)) : r;
  };
  const Variable z = activate(recurrent_activation, add(x_part(0), h_part(0)));
  const Variable r = activate(recurrent_activation, add(x_part(1), h_part(1)));
  const Variable candidate =
      reset_after ? mul(r, h_part(2))
                  : matmul(mul(r, masked(h, m.recurrent, 2)), gate_columns(w.recurrent_kernel, 2, units));
  const Variable hh = activate(activation, add(x_part(2), candidate));
  // The state before the step enters undropped (Keras' GRUCell: h = z * h_tm1 + (1 - z) * hh).
  return {add(mul(z, h), mul(1.0f - z, hh))};
}

std::vector<Variable> simple_rnn_step(const Variable& x_t, const std::vector<Variable>& states, const Weights& w,
                                      RecurrentActivation activation, const Masks& m) {
  const int64_t units = w.recurrent_kernel.dim(0);
  return {activate(activation, add(input_part(x_t, w.kernel, w.bias, m, 0, units),
                                   recurrent_part(states.at(0), w.recurrent_kernel, m, 0, units)))};
}

RecurrentActivation activation_by_name(const Activation& a, const char* which, const std::string& owner) {
  if (!a.named())
    fail(owner, std::string(which) + " '" + a.name() + "' was made from a function or with arguments; a recurrent cell takes one by name");
  return recurrent_activation(a.name(), owner);
}

void check_dropout_rates(float dropout, float recurrent_dropout, const std::string& owner) {
  for (const auto& [what, rate] : {std::pair{"dropout", dropout}, std::pair{"recurrent_dropout", recurrent_dropout}})
    if (!(rate >= 0.0f && rate < 1.0f)) fail(owner, std::string(what) + " must be in [0, 1), got " + std::to_string(rate));
}

Initializer lstm_bias_initializer(const LSTMOptions& options, int64_t u) {
  if (!options.unit_forget_bias) return options.bias_initializer;
  return Initializer(
      [init = options.bias_initializer, u](const Shape&, Rng& rng) {
        const Tensor i = init(Shape({u}), rng), rest = init(Shape({2 * u}), rng);
        Tensor b = Tensor::empty({4 * u});
        std::copy_n(i.data(), u, b.data());
        std::fill_n(b.data() + u, u, 1.0f);
        std::copy_n(rest.data(), 2 * u, b.data() + 2 * u);
        return b;
      },
      "unit_forget_bias");
}

OverTime run_over_time(const Variable& x, const Tensor& mask, bool go_backwards, std::vector<Variable> states,
                       const std::function<std::vector<Variable>(const Variable&, const std::vector<Variable>&)>& step) {
  const int64_t batch = x.dim(0), steps = x.dim(1), features = x.dim(2);
  std::vector<Variable> outputs;
  Variable previous;  // the last step's output
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t t = go_backwards ? steps - 1 - s : s;
    std::vector<Variable> next = step(reshape(slice(x, 1, t, t + 1), {batch, features}), states);
    Variable out = next.at(0);
    if (mask.defined()) {  // Keras: where the step is masked, the states stay and the output repeats
      Tensor m = Tensor::empty({batch, 1});
      for (int64_t b = 0; b < batch; ++b) m.data()[b] = mask.data()[b * steps + t];
      const Variable keep(m), drop(sub(Tensor::ones({batch, 1}), m));
      for (size_t i = 0; i < states.size(); ++i) next[i + 1] = add(mul(next[i + 1], keep), mul(states[i], drop));
      out = previous.defined() ? add(mul(out, keep), mul(previous, drop)) : mul(out, keep);
    }
    states.assign(next.begin() + 1, next.end());
    previous = out;
    outputs.push_back(reshape(out, {batch, 1, out.dim(1)}));
  }
  return {concat(outputs, 1), states};
}

}  // namespace tapegrad::recurrent_steps
