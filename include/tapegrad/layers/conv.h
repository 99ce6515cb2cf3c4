#pragma once
// Conv1D, Conv2D, Conv3D and their transposes (Keras semantics). Kernels are (*kernel_size,
// in_channels, filters) for convolutions and (*kernel_size, filters, in_channels) for the
// transposes, as in Keras. Inputs are (batch, *spatial, channels), or (batch, channels, *spatial)
// with data_format "channels_first".
#include <vector>

#include "tapegrad/autograd/conv.h"
#include "tapegrad/layers/conv_options.h"
#include "tapegrad/layers/layer.h"

namespace tapegrad {

class Conv : public Layer {
 public:
  // rank: number of spatial dims (1, 2, 3); transpose: a Conv*Transpose layer.
  Conv(std::string type, int rank, bool transpose, int64_t filters, const IntTuple& kernel_size, ConvOptions options);

  Shape output_shape(const Shape& input_shape) const override;
  int64_t filters() const { return filters_; }
  const std::vector<int64_t>& kernel_size() const { return kernel_size_; }
  // One value per spatial dim; output_padding is empty when not given (Keras' None).
  const std::vector<int64_t>& strides() const { return strides_; }
  const std::vector<int64_t>& dilation_rate() const { return dilation_; }
  const std::vector<int64_t>& output_padding() const { return output_padding_; }
  const ConvOptions& options() const { return options_; }  // as given (architecture JSON)
  const ParameterPtr& kernel() const { return kernel_; }
  const ParameterPtr& bias() const { return bias_; }

 protected:
  void build_impl(const Shape& input_shape) override;
  Variable forward(const Variable& x, bool training) override;

 private:
  int rank_;
  bool transpose_;
  int64_t filters_;
  std::vector<int64_t> kernel_size_, strides_, dilation_, output_padding_;
  ConvOptions options_;
  DataFormat format_;
  ParameterPtr kernel_, bias_;

  ConvParams params() const { return {strides_, dilation_, options_.padding}; }
};

class Conv1D : public Conv {
 public:
  TAPEGRAD_LAYER(Conv1D)
  Conv1D(int64_t filters, const IntTuple& kernel_size, ConvOptions options = {})
      : Conv("Conv1D", 1, false, filters, kernel_size, std::move(options)) {}
};
class Conv2D : public Conv {
 public:
  TAPEGRAD_LAYER(Conv2D)
  Conv2D(int64_t filters, const IntTuple& kernel_size, ConvOptions options = {})
      : Conv("Conv2D", 2, false, filters, kernel_size, std::move(options)) {}
};
class Conv3D : public Conv {
 public:
  TAPEGRAD_LAYER(Conv3D)
  Conv3D(int64_t filters, const IntTuple& kernel_size, ConvOptions options = {})
      : Conv("Conv3D", 3, false, filters, kernel_size, std::move(options)) {}
};
class Conv1DTranspose : public Conv {
 public:
  TAPEGRAD_LAYER(Conv1DTranspose)
  Conv1DTranspose(int64_t filters, const IntTuple& kernel_size, ConvOptions options = {})
      : Conv("Conv1DTranspose", 1, true, filters, kernel_size, std::move(options)) {}
};
class Conv2DTranspose : public Conv {
 public:
  TAPEGRAD_LAYER(Conv2DTranspose)
  Conv2DTranspose(int64_t filters, const IntTuple& kernel_size, ConvOptions options = {})
      : Conv("Conv2DTranspose", 2, true, filters, kernel_size, std::move(options)) {}
};
class Conv3DTranspose : public Conv {
 public:
  TAPEGRAD_LAYER(Conv3DTranspose)
  Conv3DTranspose(int64_t filters, const IntTuple& kernel_size, ConvOptions options = {})
      : Conv("Conv3DTranspose", 3, true, filters, kernel_size, std::move(options)) {}
};

// Checks Keras' rules shared by the convolution layers: rank of the input, padding names,
// strides > 1 together with dilation > 1. Returns the input shape in channels_last.
Shape check_conv_input(const std::string& label, int rank, const Shape& input_shape, const DataFormat& format);
void check_strides_and_dilation(const std::string& label, const std::vector<int64_t>& strides,
                                const std::vector<int64_t>& dilation);

}  // namespace tapegrad
