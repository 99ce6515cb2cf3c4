#include "autograd/recurrent_common.h"

#include <algorithm>
#include <cmath>

#include "core/gemm.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/parallel.h"

namespace tapegrad {

RecurrentActivation recurrent_activation(const std::string& name, const std::string& owner) {
  if (name == "tanh") return RecurrentActivation::tanh;
  if (name == "sigmoid") return RecurrentActivation::sigmoid;
  if (name == "hard_sigmoid") return RecurrentActivation::hard_sigmoid;
  if (name == "relu") return RecurrentActivation::relu;
  if (name == "linear") return RecurrentActivation::linear;
  fail(owner, "activation '" + name + "' is not supported in a recurrent cell; known: hard_sigmoid, linear, relu, sigmoid, tanh");
}

namespace recurrent {

SequenceDims check_sequence_shapes(const char* op, const Tensor& x, const Tensor& kernel, const Tensor& recurrent_kernel,
                                   int gates) {
  if (x.rank() != 3) fail(op, "x must be (batch, steps, features), got " + x.shape().str());
  const SequenceDims d{x.dim(0), x.dim(1), x.dim(2), recurrent_kernel.rank() == 2 ? recurrent_kernel.dim(0) : 0};
  const std::string g = gates == 1 ? "units" : std::to_string(gates) + " units";
  if (kernel.shape() != Shape({d.features, gates * d.units}) || recurrent_kernel.shape() != Shape({d.units, gates * d.units}) ||
      d.units < 1)
    fail(op, "kernel " + kernel.shape().str() + " and recurrent kernel " + recurrent_kernel.shape().str() +
                 " must be (features " + std::to_string(d.features) + ", " + g + ") and (units, " + g + ")");
  if (d.steps < 1) fail(op, "x " + x.shape().str() + " has no steps");
  return d;
}

void check_bias(const char* op, const Variable& bias, const Shape& shape) {
  if (bias.defined() && bias.value().shape() != shape)
    fail(op, "bias " + bias.value().shape().str() + " must be " + shape.str());
}

void check_state(const char* op, const Variable& state, const SequenceDims& d) {
  if (state.defined() && state.value().shape() != Shape({d.batch, d.units}))
    fail(op, "initial state " + state.value().shape().str() + " must be (batch, units) = " + Shape({d.batch, d.units}).str());
}

std::vector<uint8_t> steps_read(const char* op, const Tensor& mask, const SequenceDims& d, bool go_backwards) {
  if (!mask.defined()) return {};
  if (mask.shape() != Shape({d.batch, d.steps}))
    fail(op, "mask " + mask.shape().str() + " must be (batch, steps) = " + Shape({d.batch, d.steps}).str());
  std::vector<uint8_t> read(static_cast<size_t>(d.batch * d.steps));
  const float* m = mask.data();
  for (int64_t b = 0; b < d.batch; ++b)
    for (int64_t t = 0; t < d.steps; ++t) {
      const float v = m[b * d.steps + t];
      if (v != 0.0f && v != 1.0f)
        fail(op, "mask " + mask.shape().str() + " must hold 0 (skip the step) or 1 (read it), got " + std::to_string(v) +
                     " at sample " + std::to_string(b) + ", step " + std::to_string(t));
      const int64_t s = go_backwards ? d.steps - 1 - t : t;
      read[static_cast<size_t>(b * d.steps + s)] = v != 0.0f;
    }
  return read;
}

void activate_in_place(RecurrentActivation a, float* x, const float* bias, int64_t n) {
  auto each = [&](auto f) {
    if (bias)
      for (int64_t i = 0; i < n; ++i) x[i] = f(x[i] + bias[i]);
    else
      for (int64_t i = 0; i < n; ++i) x[i] = f(x[i]);
  };
  switch (a) {
    case RecurrentActivation::tanh: return each([](float z) { return activate(RecurrentActivation::tanh, z); });
    case RecurrentActivation::sigmoid: return each([](float z) { return activate(RecurrentActivation::sigmoid, z); });
    case RecurrentActivation::hard_sigmoid: return each([](float z) { return activate(RecurrentActivation::hard_sigmoid, z); });
    case RecurrentActivation::relu: return each([](float z) { return activate(RecurrentActivation::relu, z); });
    case RecurrentActivation::linear: return each([](float z) { return z; });
  }
}

Tensor reorder_steps(const Tensor& rows, int64_t batch, int64_t steps, bool reverse) {
  if (!reverse) return rows;
  const int64_t width = rows.dim(1);
  Tensor out = Tensor::empty({batch * steps, width});
  parallel_for(0, batch * steps, 64, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const int64_t b = r / steps, s = r % steps;
      std::copy_n(rows.data() + (b * steps + steps - 1 - s) * width, width, out.data() + r * width);
    }
  });
  return out;
}

Tensor previous_states(const Tensor& sequence, int64_t offset, int64_t units, const Tensor& initial) {
  const int64_t batch = sequence.dim(0), steps = sequence.dim(1), width = sequence.dim(2);
  Tensor out = Tensor::empty({batch * steps, units});
  parallel_for(0, batch * steps, 64, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const int64_t b = r / steps, s = r % steps;
      const float* src = s == 0 ? initial.data() + b * units : sequence.data() + (b * steps + s - 1) * width + offset;
      std::copy_n(src, units, out.data() + r * units);
    }
  });
  return out;
}

Tensor column_sums(const Tensor& rows) {
  const int64_t n = rows.dim(0), width = rows.dim(1);
  constexpr int64_t kBlock = 64;  // columns per task: their sums stay in registers and L1
  Tensor out = Tensor::empty({width});
  parallel_chunks(width, kBlock, [&](int64_t, int64_t lo, int64_t hi) {
    double sums[kBlock] = {};
    // Row by row (memory order); each column's terms still add in row order.
    for (int64_t r = 0; r < n; ++r) {
      const float* row = rows.data() + r * width;
      for (int64_t k = lo; k < hi; ++k) sums[k - lo] += row[k];
    }
    for (int64_t k = lo; k < hi; ++k) out.data()[k] = static_cast<float>(sums[k - lo]);
  });
  return out;
}

void add_transposed_product(const Tensor& a, const float* b, int64_t ldb, int64_t q, float* c, int64_t ldc) {
  const int64_t n = a.dim(0), p = a.dim(1);
  parallel_chunks(p, 32, [&](int64_t, int64_t lo, int64_t hi) {
    gemm({a.data() + lo, p, /*transposed=*/true}, {b, ldb}, c + lo * ldc, ldc, hi - lo, n, q);
  });
}

}  // namespace recurrent
}  // namespace tapegrad
