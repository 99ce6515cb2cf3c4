#pragma once
// LocallyConnected1D/2D (Keras 2 semantics): like Conv1D/Conv2D with 'valid' padding, but the
// weights are not shared: the kernel is (output positions, kernel positions * in_channels,
// filters) and the bias (*output spatial, filters).
#include "tapegrad/layers/conv_options.h"
#include "tapegrad/layers/layer.h"

namespace tapegrad {

class LocallyConnected : public Layer {
 public:
  LocallyConnected(std::string type, int rank, int64_t filters, const IntTuple& kernel_size, ConvOptions options);
  Shape output_shape(const Shape& input_shape) const override;
  const ParameterPtr& kernel() const { return kernel_; }
  const ParameterPtr& bias() const { return bias_; }
  int64_t filters() const { return filters_; }
  const std::vector<int64_t>& kernel_size() const { return kernel_size_; }
  const std::vector<int64_t>& strides() const { return strides_; }
  const ConvOptions& options() const { return options_; }

 protected:
  void build_impl(const Shape& input_shape) override;
  Variable forward(const Variable& x, bool training) override;

 private:
  int rank_;
  int64_t filters_;
  std::vector<int64_t> kernel_size_, strides_;
  ConvOptions options_;
  DataFormat format_;
  ParameterPtr kernel_, bias_;
};

class LocallyConnected1D : public LocallyConnected {
 public:
  TAPEGRAD_LAYER(LocallyConnected1D)
  LocallyConnected1D(int64_t filters, const IntTuple& kernel_size, ConvOptions options = {})
      : LocallyConnected("LocallyConnected1D", 1, filters, kernel_size, std::move(options)) {}
};
class LocallyConnected2D : public LocallyConnected {
 public:
  TAPEGRAD_LAYER(LocallyConnected2D)
  LocallyConnected2D(int64_t filters, const IntTuple& kernel_size, ConvOptions options = {})
      : LocallyConnected("LocallyConnected2D", 2, filters, kernel_size, std::move(options)) {}
};

}  // namespace tapegrad
