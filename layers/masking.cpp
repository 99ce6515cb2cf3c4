#include "tapegrad/layers/masking.h"

#include <cmath>

#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/error.h"

namespace tapegrad {

Masking::Masking(MaskingOptions options) : Layer("Masking", options.name), options_(std::move(options)) {
  if (std::isnan(options_.mask_value)) fail(label(), "mask_value cannot be NaN (no value equals it)");
}

Shape Masking::output_shape(const Shape& input_shape) const {
  if (input_shape.rank() < 1) fail(label(), "expects inputs (batch, steps, ..., features), got " + with_batch_str(input_shape));
  return input_shape;
}

Variable Masking::forward(const Variable& x, bool /*training*/) {
  if (x.rank() < 2) fail(label(), "expects inputs (batch, ..., features), got " + x.shape().str());
  const Shape& s = x.shape();
  const int64_t features = s[s.rank() - 1], positions = x.numel() / std::max<int64_t>(features, 1);
  std::vector<int64_t> mask_dims(s.begin(), s.end() - 1);
  Tensor mask = Tensor::empty(Shape(mask_dims));
  const float* px = x.value().data();
  for (int64_t p = 0; p < positions; ++p) {
    bool any = false;
    for (int64_t f = 0; f < features && !any; ++f) any = px[p * features + f] != options_.mask_value;
    mask.data()[p] = any ? 1.0f : 0.0f;
  }
  std::vector<int64_t> broadcast = mask_dims;
  broadcast.push_back(1);
  Variable y = mul(x, Variable(mask.reshape(broadcast)));  // Keras: inputs * boolean_mask
  y.set_mask(mask);
  return y;
}

}  // namespace tapegrad
