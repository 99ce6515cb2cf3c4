#pragma once
// The recurrent cells written step by step with the tape's plain ops (slice, matmul, sigmoid,
// tanh, ...): the independent references the fused recurrent ops are tested against.
#include <vector>

#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/recurrent.h"

namespace recurrent_reference {

namespace tg = tapegrad;
using tg::Variable;

inline Variable activation(tg::RecurrentActivation a, const Variable& z) {
  switch (a) {
    case tg::RecurrentActivation::tanh: return tg::tanh(z);
    case tg::RecurrentActivation::sigmoid: return tg::sigmoid(z);
    case tg::RecurrentActivation::hard_sigmoid: return tg::clip(z * 0.2f + 0.5f, 0.0f, 1.0f);
    case tg::RecurrentActivation::relu: return tg::relu(z);
    case tg::RecurrentActivation::linear: return z;
  }
  return z;
}

// x's step t as (batch, features).
inline Variable step(const Variable& x, int64_t t) {
  return tg::reshape(tg::slice(x, 1, t, t + 1), {x.value().dim(0), x.value().dim(2)});
}

// Keras' masking (backend.rnn): where input step t is skipped (mask 0), the state stays as it was.
inline Variable kept(const tg::Tensor& mask, int64_t t, const Variable& now, const Variable& before) {
  if (!mask.defined()) return now;
  const Variable m = tg::slice(Variable(mask), 1, t, t + 1);  // (batch, 1)
  return m * now + (1.0f - m) * before;
}

// A mask (batch, steps) with every kind of sample: all steps read, right padding (the last two
// skipped), left padding, holes, and (from the fourth sample on, every fourth) none read.
inline tg::Tensor test_mask(int64_t batch, int64_t steps) {
  tg::Tensor m = tg::Tensor::ones({batch, steps});
  for (int64_t b = 1; b < batch; ++b)
    for (int64_t t = 0; t < steps; ++t) {
      const bool skip = b == 1 ? t >= steps - 2 : b == 2 ? t < 2 : b % 4 == 3 ? true : (b + t) % 3 == 0;
      if (skip) m.data()[b * steps + t] = 0.0f;
    }
  return m;
}

inline Variable columns(const Variable& z, int64_t part, int64_t units) { return tg::slice(z, 1, part * units, (part + 1) * units); }

inline Variable stacked(const std::vector<Variable>& steps, int64_t batch, int64_t width) {
  std::vector<Variable> v;
  for (const auto& s : steps) v.push_back(tg::reshape(s, {batch, 1, width}));
  return tg::concat(v, 1);
}

// Keras' LSTMCell: each step's h then c.
inline Variable lstm_by_steps(const Variable& x, const Variable& w, const Variable& u, const Variable& b, const Variable& h0,
                       const Variable& c0, const tg::LSTMOpOptions& o) {
  const int64_t steps = x.value().dim(1), units = u.value().dim(0);
  Variable h = h0, c = c0;
  std::vector<Variable> outs;
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t t = o.go_backwards ? steps - 1 - s : s;
    Variable xt = step(x, t);
    Variable z = tg::matmul(xt, w) + tg::matmul(h, u) + b;
    Variable i = activation(o.recurrent_activation, tg::slice(z, 1, 0, units));
    Variable f = activation(o.recurrent_activation, tg::slice(z, 1, units, 2 * units));
    Variable g = activation(o.activation, tg::slice(z, 1, 2 * units, 3 * units));
    Variable og = activation(o.recurrent_activation, tg::slice(z, 1, 3 * units, 4 * units));
    const Variable c_new = f * c + i * g;
    const Variable h_new = og * activation(o.activation, c_new);
    c = kept(o.mask, t, c_new, c);
    h = kept(o.mask, t, h_new, h);
    outs.push_back(tg::reshape(tg::concat({h, c}, 1), {x.value().dim(0), 1, 2 * units}));
  }
  return tg::concat(outs, 1);
}

// Keras' SimpleRNNCell: each step's h.
inline Variable simple_rnn_by_steps(const Variable& x, const Variable& w, const Variable& u, const Variable& b,
                                    const Variable& h0, const tg::SimpleRNNOpOptions& o) {
  const int64_t steps = x.value().dim(1);
  Variable h = h0;
  std::vector<Variable> outs;
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t t = o.go_backwards ? steps - 1 - s : s;
    h = kept(o.mask, t, activation(o.activation, tg::matmul(step(x, t), w) + tg::matmul(h, u) + b), h);
    outs.push_back(h);
  }
  return stacked(outs, x.value().dim(0), u.value().dim(0));
}

// Keras' GRUCell (keras/layers/rnn/gru.py, GRUCell.call): each step's h. b is (2, 3 units) with
// reset_after, else (3 units).
inline Variable gru_by_steps(const Variable& x, const Variable& w, const Variable& u, const Variable& b, const Variable& h0,
                             const tg::GRUOpOptions& o) {
  const int64_t steps = x.value().dim(1), units = u.value().dim(0);
  Variable h = h0;
  const Variable b_in = o.reset_after ? tg::reshape(tg::slice(b, 0, 0, 1), {3 * units}) : b;
  std::vector<Variable> outs;
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t t = o.go_backwards ? steps - 1 - s : s;
    const Variable xg = tg::matmul(step(x, t), w) + b_in;
    Variable z, r, hh;
    if (o.reset_after) {
      const Variable rec = tg::matmul(h, u) + tg::reshape(tg::slice(b, 0, 1, 2), {3 * units});
      z = activation(o.recurrent_activation, columns(xg, 0, units) + columns(rec, 0, units));
      r = activation(o.recurrent_activation, columns(xg, 1, units) + columns(rec, 1, units));
      hh = activation(o.activation, columns(xg, 2, units) + r * columns(rec, 2, units));
    } else {
      z = activation(o.recurrent_activation, columns(xg, 0, units) + tg::matmul(h, tg::slice(u, 1, 0, units)));
      r = activation(o.recurrent_activation, columns(xg, 1, units) + tg::matmul(h, tg::slice(u, 1, units, 2 * units)));
      hh = activation(o.activation, columns(xg, 2, units) + tg::matmul(r * h, tg::slice(u, 1, 2 * units, 3 * units)));
    }
    h = kept(o.mask, t, z * h + (1.0f - z) * hh, h);
    outs.push_back(h);
  }
  return stacked(outs, x.value().dim(0), units);
}

}  // namespace recurrent_reference
