#include "autograd/recurrent_common.h"

#include <algorithm>
#include <cmath>

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

float activate(RecurrentActivation a, float z) {
  switch (a) {
    case RecurrentActivation::tanh: return std::tanh(z);
    case RecurrentActivation::sigmoid: return 1.0f / (1.0f + std::exp(-z));
    case RecurrentActivation::hard_sigmoid: return std::fmin(1.0f, std::fmax(0.0f, 0.2f * z + 0.5f));  // Keras 2.15's
    case RecurrentActivation::relu: return z > 0.0f ? z : 0.0f;
    case RecurrentActivation::linear: return z;
  }
  return z;
}

float derivative_from_value(RecurrentActivation a, float y) {
  switch (a) {
    case RecurrentActivation::tanh: return 1.0f - y * y;
    case RecurrentActivation::sigmoid: return y * (1.0f - y);
    case RecurrentActivation::hard_sigmoid: return y > 0.0f && y < 1.0f ? 0.2f : 0.0f;
    case RecurrentActivation::relu: return y > 0.0f ? 1.0f : 0.0f;
    case RecurrentActivation::linear: return 1.0f;
  }
  return 1.0f;
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
  Tensor out = Tensor::empty({width});
  parallel_for(0, width, 64, [&](int64_t lo, int64_t hi) {
    for (int64_t k = lo; k < hi; ++k) {
      double sum = 0;
      for (int64_t r = 0; r < n; ++r) sum += rows.data()[r * width + k];
      out.data()[k] = static_cast<float>(sum);
    }
  });
  return out;
}

}  // namespace recurrent
}  // namespace tapegrad
