#pragma once
// Max/AveragePooling1D/2D/3D and GlobalMax/GlobalAveragePooling1D/2D/3D (Keras semantics:
// strides default to the pool size; 'valid' or 'same' padding; data_format).
#include "tapegrad/layers/conv_options.h"
#include "tapegrad/layers/layer.h"

namespace tapegrad {

struct PoolingOptions {
  IntTuple strides = {};  // empty (Keras' None): the pool size
  std::string padding = "valid";
  std::string data_format = "channels_last";
  std::string name = "";
};

class Pooling : public Layer {
 public:
  Pooling(std::string type, int rank, bool max, const IntTuple& pool_size, PoolingOptions options);
  Shape output_shape(const Shape& input_shape) const override;
  // One value per spatial dim (strides: the pool size when not given).
  const std::vector<int64_t>& pool_size() const { return pool_; }
  const std::vector<int64_t>& strides() const { return strides_; }
  const PoolingOptions& options() const { return options_; }

 protected:
  Variable forward(const Variable& x, bool training) override;

 private:
  int rank_;
  bool max_;
  std::vector<int64_t> pool_, strides_;
  PoolingOptions options_;
  DataFormat format_;
};

#define TAPEGRAD_POOLING_LAYER(Name, rank, is_max, default_pool)                                 \
  class Name : public Pooling {                                                                  \
   public:                                                                                       \
    TAPEGRAD_LAYER(Name)                                                                         \
    explicit Name(const IntTuple& pool_size = default_pool, PoolingOptions options = {})         \
        : Pooling(#Name, rank, is_max, pool_size, std::move(options)) {}                         \
  };
TAPEGRAD_POOLING_LAYER(MaxPooling1D, 1, true, 2)
TAPEGRAD_POOLING_LAYER(MaxPooling2D, 2, true, 2)
TAPEGRAD_POOLING_LAYER(MaxPooling3D, 3, true, 2)
TAPEGRAD_POOLING_LAYER(AveragePooling1D, 1, false, 2)
TAPEGRAD_POOLING_LAYER(AveragePooling2D, 2, false, 2)
TAPEGRAD_POOLING_LAYER(AveragePooling3D, 3, false, 2)
#undef TAPEGRAD_POOLING_LAYER

struct GlobalPoolingOptions {
  std::string data_format = "channels_last";
  bool keepdims = false;
  std::string name = "";
};

class GlobalPooling : public Layer {
 public:
  GlobalPooling(std::string type, int rank, bool max, GlobalPoolingOptions options);
  Shape output_shape(const Shape& input_shape) const override;
  // GlobalAveragePooling1D averages the steps its input's mask keeps (Keras'); the others refuse one.
  MaskSupport mask_support() const override {
    return rank_ == 1 && !max_ ? MaskSupport::computes : MaskSupport::refuses;
  }
  const GlobalPoolingOptions& options() const { return options_; }

 protected:
  Variable forward(const Variable& x, bool training) override;

 private:
  int rank_;
  bool max_;
  GlobalPoolingOptions options_;
  DataFormat format_;
};

#define TAPEGRAD_GLOBAL_POOLING_LAYER(Name, rank, is_max)                                                      \
  class Name : public GlobalPooling {                                                                          \
   public:                                                                                                     \
    TAPEGRAD_LAYER(Name)                                                                                       \
    explicit Name(GlobalPoolingOptions options = {}) : GlobalPooling(#Name, rank, is_max, std::move(options)) {} \
  };
TAPEGRAD_GLOBAL_POOLING_LAYER(GlobalMaxPooling1D, 1, true)
TAPEGRAD_GLOBAL_POOLING_LAYER(GlobalMaxPooling2D, 2, true)
TAPEGRAD_GLOBAL_POOLING_LAYER(GlobalMaxPooling3D, 3, true)
TAPEGRAD_GLOBAL_POOLING_LAYER(GlobalAveragePooling1D, 1, false)
TAPEGRAD_GLOBAL_POOLING_LAYER(GlobalAveragePooling2D, 2, false)
TAPEGRAD_GLOBAL_POOLING_LAYER(GlobalAveragePooling3D, 3, false)
#undef TAPEGRAD_GLOBAL_POOLING_LAYER

}  // namespace tapegrad
