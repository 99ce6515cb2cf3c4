#include "tapegrad/layers/time_distributed.h"

#include <vector>

#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/error.h"

namespace tapegrad {

TimeDistributed::TimeDistributed(LayerRef layer, LayerOptions options) : Layer("TimeDistributed", std::move(options.name)) {
  register_layer(layer.get());
}

Shape TimeDistributed::output_shape(const Shape& input_shape) const {
  if (input_shape.rank() < 2)
    fail(label(), "input " + with_batch_str(input_shape) + " has " + std::to_string(input_shape.rank() + 1) +
                      " dims, expects at least 3 (batch, time, ...) for wrapped " + layer()->type() + " '" +
                      layer()->name() + "'");
  const Shape inner = layer()->output_shape(input_shape.drop(0, 1));
  Shape out{input_shape[0]};
  for (int64_t d : inner) out.push_back(d);
  return out;
}

void TimeDistributed::build_impl(const Shape& input_shape) { layer()->build(input_shape.drop(0, 1)); }

Variable TimeDistributed::forward(const Variable& x, bool training) {
  const int64_t batch = x.dim(0), time = x.dim(1);
  std::vector<int64_t> folded{batch * time};
  for (int i = 2; i < x.rank(); ++i) folded.push_back(x.dim(i));
  const Variable y = (*layer())(reshape(x, folded), training);
  std::vector<int64_t> unfolded{batch, time};
  for (int i = 1; i < y.rank(); ++i) unfolded.push_back(y.dim(i));
  return reshape(y, unfolded);
}

}  // namespace tapegrad
