#include "tapegrad/layers/spatial_dropout.h"

#include <string>

#include "tapegrad/autograd/nn_ops.h"
#include "tapegrad/core/error.h"
#include "layers/random_seed.h"

namespace tapegrad {

namespace {
// "(batch, rows, cols, channels)" for messages.
std::string layout_str(int spatial_dims, bool channels_first) {
  static const char* names[3][3] = {{"steps"}, {"rows", "cols"}, {"depth", "rows", "cols"}};
  std::string s = channels_first ? "(batch, channels" : "(batch";
  for (int i = 0; i < spatial_dims; ++i) s += std::string(", ") + names[spatial_dims - 1][i];
  return s + (channels_first ? ")" : ", channels)");
}
}  // namespace

SpatialDropout::SpatialDropout(std::string type, int spatial_dims, float rate, SpatialDropoutOptions options)
    : Layer(std::move(type), options.name),
      spatial_dims_(spatial_dims),
      rate_(rate),
      channels_first_(options.data_format == "channels_first"),
      seed_(options.seed),
      rng_(layer_seed(options.seed)) {
  if (!(rate >= 0.0f && rate < 1.0f)) fail(label(), "rate must be in [0, 1), got " + std::to_string(rate));
  if (options.data_format != "channels_last" && options.data_format != "channels_first")
    fail(label(), "unknown data_format '" + options.data_format + "'; known: channels_first, channels_last");
}

Shape SpatialDropout::output_shape(const Shape& input_shape) const {
  if (input_shape.rank() != spatial_dims_ + 1)
    fail(label(), "input " + with_batch_str(input_shape) + " has " + std::to_string(input_shape.rank() + 1) +
                      " dims, expects " + std::to_string(spatial_dims_ + 2) + " " +
                      layout_str(spatial_dims_, channels_first_));
  return input_shape;
}

Variable SpatialDropout::forward(const Variable& x, bool training) {
  if (!training || rate_ == 0.0f) return x;
  // One draw per (sample, channel): the noise shape is 1 on every spatial dim.
  Shape noise = x.shape();
  const int channel_axis = channels_first_ ? 1 : x.rank() - 1;
  for (int i = 1; i < x.rank(); ++i)
    if (i != channel_axis) noise[i] = 1;
  return apply_mask(x, dropout_mask(noise, rate_, rng_));
}

}  // namespace tapegrad
