#pragma once
// DepthwiseConv1D/2D and SeparableConv1D/2D (Keras semantics). Depthwise kernels are
// (*kernel_size, in_channels, depth_multiplier); a separable convolution is a depthwise one
// followed by a 1x1 pointwise kernel (1.., in_channels * depth_multiplier, filters).
#include "tapegrad/autograd/conv.h"
#include "tapegrad/layers/conv_options.h"
#include "tapegrad/layers/layer.h"

namespace tapegrad {

class DepthwiseConv : public Layer {
 public:
  DepthwiseConv(std::string type, int rank, const IntTuple& kernel_size, DepthwiseConvOptions options);
  Shape output_shape(const Shape& input_shape) const override;
  const ParameterPtr& depthwise_kernel() const { return depthwise_; }
  const ParameterPtr& bias() const { return bias_; }
  // One value per spatial dim, and the options as given (architecture JSON).
  const std::vector<int64_t>& kernel_size() const { return kernel_size_; }
  const std::vector<int64_t>& strides() const { return strides_; }
  const std::vector<int64_t>& dilation_rate() const { return dilation_; }
  const DepthwiseConvOptions& options() const { return options_; }

 protected:
  void build_impl(const Shape& input_shape) override;
  Variable forward(const Variable& x, bool training) override;

 private:
  int rank_;
  std::vector<int64_t> kernel_size_, strides_, dilation_;
  DepthwiseConvOptions options_;
  DataFormat format_;
  ParameterPtr depthwise_, bias_;
};

class DepthwiseConv1D : public DepthwiseConv {
 public:
  TAPEGRAD_LAYER(DepthwiseConv1D)
  explicit DepthwiseConv1D(const IntTuple& kernel_size, DepthwiseConvOptions options = {})
      : DepthwiseConv("DepthwiseConv1D", 1, kernel_size, std::move(options)) {}
};
class DepthwiseConv2D : public DepthwiseConv {
 public:
  TAPEGRAD_LAYER(DepthwiseConv2D)
  explicit DepthwiseConv2D(const IntTuple& kernel_size, DepthwiseConvOptions options = {})
      : DepthwiseConv("DepthwiseConv2D", 2, kernel_size, std::move(options)) {}
};

class SeparableConv : public Layer {
 public:
  SeparableConv(std::string type, int rank, int64_t filters, const IntTuple& kernel_size, SeparableConvOptions options);
  Shape output_shape(const Shape& input_shape) const override;
  const ParameterPtr& depthwise_kernel() const { return depthwise_; }
  const ParameterPtr& pointwise_kernel() const { return pointwise_; }
  const ParameterPtr& bias() const { return bias_; }
  int64_t filters() const { return filters_; }
  const std::vector<int64_t>& kernel_size() const { return kernel_size_; }
  const std::vector<int64_t>& strides() const { return strides_; }
  const std::vector<int64_t>& dilation_rate() const { return dilation_; }
  const SeparableConvOptions& options() const { return options_; }

 protected:
  void build_impl(const Shape& input_shape) override;
  Variable forward(const Variable& x, bool training) override;

 private:
  int rank_;
  int64_t filters_;
  std::vector<int64_t> kernel_size_, strides_, dilation_;
  SeparableConvOptions options_;
  DataFormat format_;
  ParameterPtr depthwise_, pointwise_, bias_;
};

class SeparableConv1D : public SeparableConv {
 public:
  TAPEGRAD_LAYER(SeparableConv1D)
  SeparableConv1D(int64_t filters, const IntTuple& kernel_size, SeparableConvOptions options = {})
      : SeparableConv("SeparableConv1D", 1, filters, kernel_size, std::move(options)) {}
};
class SeparableConv2D : public SeparableConv {
 public:
  TAPEGRAD_LAYER(SeparableConv2D)
  SeparableConv2D(int64_t filters, const IntTuple& kernel_size, SeparableConvOptions options = {})
      : SeparableConv("SeparableConv2D", 2, filters, kernel_size, std::move(options)) {}
};

}  // namespace tapegrad
