#include "tapegrad/layers/dropout.h"

#include <string>

#include "tapegrad/autograd/nn_ops.h"
#include "tapegrad/core/error.h"
#include "layers/random_seed.h"

namespace tapegrad {

namespace {
std::string noise_shape_str(const std::vector<int64_t>& dims) {
  std::string s = "(";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + (dims[i] < 0 ? std::string("None") : std::to_string(dims[i]));
  return s + (dims.size() == 1 ? ",)" : ")");
}
}  // namespace

Dropout::Dropout(float rate, DropoutOptions options)
    : Layer("Dropout", options.name), rate_(rate), options_(std::move(options)), rng_(layer_seed(options_.seed)) {
  if (!(rate >= 0.0f && rate < 1.0f)) fail(label(), "rate must be in [0, 1), got " + std::to_string(rate));
}

Shape Dropout::resolved_noise_shape(const Shape& input) const {
  const auto& ns = options_.noise_shape;
  if (ns.empty()) return input;
  if (static_cast<int>(ns.size()) != input.rank())
    fail(label(), "noise_shape " + noise_shape_str(ns) + " has " + std::to_string(ns.size()) + " dims, the input " +
                      input.str() + " has " + std::to_string(input.rank()));
  Shape out = input;
  for (int i = 0; i < input.rank(); ++i) {
    if (ns[i] < 0) continue;
    if (ns[i] != 1 && ns[i] != input[i])
      fail(label(), "noise_shape " + noise_shape_str(ns) + " does not fit the input " + input.str() + ": dim " +
                        std::to_string(i) + " must be 1, None or " + std::to_string(input[i]));
    out[i] = ns[i];
  }
  return out;
}

Variable Dropout::forward(const Variable& x, bool training) {
  if (!training || rate_ == 0.0f) return x;
  return apply_mask(x, dropout_mask(resolved_noise_shape(x.shape()), rate_, rng_));
}

}  // namespace tapegrad
