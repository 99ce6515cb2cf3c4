#include "tapegrad/layers/pooling.h"

#include "tapegrad/autograd/ops.h"

#include "tapegrad/autograd/conv.h"
#include "tapegrad/autograd/pooling.h"
#include "tapegrad/core/error.h"
#include "tapegrad/layers/conv.h"

namespace tapegrad {

Pooling::Pooling(std::string type, int rank, bool max, const IntTuple& pool_size, PoolingOptions options)
    : Layer(std::move(type), options.name), rank_(rank), max_(max), options_(std::move(options)), format_(options_.data_format, label()) {
  pool_ = pool_size.expand(rank, "pool_size", label());
  strides_ = options_.strides.empty() ? pool_ : options_.strides.expand(rank, "strides", label());
  for (int i = 0; i < rank; ++i)
    if (pool_[i] < 1 || strides_[i] < 1)
      fail(label(), "pool_size " + Shape(pool_).str() + " and strides " + Shape(strides_).str() + " must be positive");
  if (options_.padding != "valid" && options_.padding != "same")
    fail(label(), "unknown padding '" + options_.padding + "'; known: valid, same");
}

Shape Pooling::output_shape(const Shape& input_shape) const {
  const Shape in = check_conv_input(label(), rank_, input_shape, format_);
  Shape out;
  for (int i = 0; i < rank_; ++i) {
    if (options_.padding == "valid" && in[i] < pool_[i])
      fail(label(), "pool_size " + Shape(pool_).str() + " is larger than the input " + with_batch_str(input_shape));
    out.push_back(conv_output_length(in[i], pool_[i], strides_[i], 1, options_.padding));
  }
  out.push_back(in[rank_]);
  return format_.from_last(out);
}

Variable Pooling::forward(const Variable& x, bool /*training*/) {
  const Variable in = format_.to_last(x);
  return format_.from_last(max_ ? max_pool(in, pool_, strides_, options_.padding) : avg_pool(in, pool_, strides_, options_.padding));
}

GlobalPooling::GlobalPooling(std::string type, int rank, bool max, GlobalPoolingOptions options)
    : Layer(std::move(type), options.name), rank_(rank), max_(max), options_(std::move(options)), format_(options_.data_format, label()) {}

Shape GlobalPooling::output_shape(const Shape& input_shape) const {
  const Shape in = check_conv_input(label(), rank_, input_shape, format_);
  if (!options_.keepdims) return Shape{in[rank_]};
  Shape out(std::vector<int64_t>(static_cast<size_t>(rank_), 1));
  out.push_back(in[rank_]);
  return format_.from_last(out);
}

Variable GlobalPooling::forward(const Variable& x, bool /*training*/) {
  const Variable in = format_.to_last(x);
  if (x.mask().defined()) {
    // Keras' masked average: sum(x * mask) / sum(mask) over the steps. A sample with no step kept
    // gives 0 / 0 = NaN there, as in Keras.
    const Tensor& m = x.mask();
    if (m.shape() != Shape({in.dim(0), in.dim(1)}))
      fail(label(), "the mask " + m.shape().str() + " of input " + x.shape().str() + " must be (batch, steps)");
    const Variable keep(m.reshape({m.dim(0), m.dim(1), 1}));
    const Variable y = div(sum(mul(in, keep), {1}, options_.keepdims),
                           sum(keep, {1}, options_.keepdims));
    return options_.keepdims ? format_.from_last(y) : y;
  }
  const Variable y = max_ ? global_max_pool(in, options_.keepdims) : global_avg_pool(in, options_.keepdims);
  return options_.keepdims ? format_.from_last(y) : y;
}

}  // namespace tapegrad
