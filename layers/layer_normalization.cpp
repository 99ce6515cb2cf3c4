#include "tapegrad/layers/layer_normalization.h"

#include <algorithm>
#include <string>
#include <vector>

#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/error.h"

namespace tapegrad {

LayerNormalization::LayerNormalization(LayerNormalizationOptions options)
    : Layer("LayerNormalization", options.name), options_(std::move(options)) {
  if (options_.axis.empty()) fail(label(), "needs at least one axis");
  if (!(options_.epsilon > 0.0f)) fail(label(), "epsilon must be positive, got " + std::to_string(options_.epsilon));
}

std::vector<int> LayerNormalization::axes(int rank) const {
  std::vector<int> out;
  for (int a : options_.axis) {
    const int ax = a < 0 ? a + rank : a;
    if (ax < 1 || ax >= rank)
      fail(label(), "axis " + std::to_string(a) + " is out of range for an input of " + std::to_string(rank) +
                        " dims (the batch axis 0 cannot be normalized over)");
    if (std::find(out.begin(), out.end(), ax) != out.end()) fail(label(), "axis " + std::to_string(a) + " is repeated");
    out.push_back(ax);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Shape LayerNormalization::output_shape(const Shape& input_shape) const {
  const auto ax = axes(input_shape.rank() + 1);
  if (built())
    for (int a : ax)
      if (input_shape[a - 1] != this->input_shape()[a - 1])
        fail(label(), "input " + with_batch_str(input_shape) + " differs on normalized axis " + std::to_string(a) +
                          " from the inputs it was built for, " + with_batch_str(this->input_shape()));
  return input_shape;
}

void LayerNormalization::build_impl(const Shape& input_shape) {
  Shape param;
  for (int a : axes(input_shape.rank() + 1)) param.push_back(input_shape[a - 1]);
  if (options_.scale)
    gamma_ = add_weight("gamma", param, options_.gamma_initializer, options_.gamma_regularizer, options_.gamma_constraint);
  if (options_.center)
    beta_ = add_weight("beta", param, options_.beta_initializer, options_.beta_regularizer, options_.beta_constraint);
}

Variable LayerNormalization::forward(const Variable& x, bool /*training*/) {
  const std::vector<int> ax = axes(x.rank());
  const Variable centered = sub(x, mean(x, ax, true));
  const Variable variance = mean(mul(centered, centered), ax, true);
  Variable y = mul(centered, pow(add(variance, options_.epsilon), -0.5f));
  // gamma and beta have the normalized axes' extents; 1 elsewhere broadcasts them.
  std::vector<int64_t> bshape(static_cast<size_t>(x.rank()), 1);
  for (int a : ax) bshape[static_cast<size_t>(a)] = x.dim(a);
  if (gamma_) y = mul(y, reshape(gamma_->var, bshape));
  if (beta_) y = add(y, reshape(beta_->var, bshape));
  return y;
}

}  // namespace tapegrad
