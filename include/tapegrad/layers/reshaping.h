#pragma once
// Layers that move values around without weights: ZeroPadding1D/2D/3D, Cropping1D/2D/3D,
// UpSampling1D/2D/3D (nearest), Flatten, Reshape (Keras semantics).
#include <initializer_list>
#include <utility>
#include <vector>

#include "tapegrad/layers/conv_options.h"
#include "tapegrad/layers/layer.h"

namespace tapegrad {

// Keras' padding/cropping argument: an int (every side), one int per spatial dim (both sides of
// that dim), or one (before, after) pair per dim. For 1-D layers a pair of ints is (before, after).
class SpatialAmounts {
 public:
  SpatialAmounts(int64_t v) : flat_{v} {}                                                  // NOLINT
  SpatialAmounts(std::initializer_list<int64_t> v) : flat_(v) {}                           // NOLINT
  SpatialAmounts(std::initializer_list<std::pair<int64_t, int64_t>> v) : pairs_(v) {}      // NOLINT
  explicit SpatialAmounts(std::vector<int64_t> v) : flat_(std::move(v)) {}
  explicit SpatialAmounts(std::vector<std::pair<int64_t, int64_t>> v) : pairs_(std::move(v)) {}
  std::vector<std::pair<int64_t, int64_t>> expand(int rank, const std::string& what, const std::string& owner) const;

 private:
  std::vector<int64_t> flat_;
  std::vector<std::pair<int64_t, int64_t>> pairs_;
};

struct SpatialOptions {
  std::string data_format = "channels_last";
  std::string name = "";
};

class ZeroPadding : public Layer {
 public:
  ZeroPadding(std::string type, int rank, const SpatialAmounts& padding, SpatialOptions options);
  Shape output_shape(const Shape& input_shape) const override;
  // (before, after) per spatial dim.
  const std::vector<std::pair<int64_t, int64_t>>& padding() const { return pads_; }
  const std::string& data_format() const { return format_.name(); }

 protected:
  Variable forward(const Variable& x, bool training) override;

 private:
  int rank_;
  std::vector<std::pair<int64_t, int64_t>> pads_;
  DataFormat format_;
};

class Cropping : public Layer {
 public:
  Cropping(std::string type, int rank, const SpatialAmounts& cropping, SpatialOptions options);
  Shape output_shape(const Shape& input_shape) const override;
  // (before, after) per spatial dim.
  const std::vector<std::pair<int64_t, int64_t>>& cropping() const { return crops_; }
  const std::string& data_format() const { return format_.name(); }

 protected:
  Variable forward(const Variable& x, bool training) override;

 private:
  int rank_;
  std::vector<std::pair<int64_t, int64_t>> crops_;
  DataFormat format_;
};

class UpSampling : public Layer {
 public:
  UpSampling(std::string type, int rank, const IntTuple& size, SpatialOptions options, std::string interpolation);
  Shape output_shape(const Shape& input_shape) const override;
  const std::vector<int64_t>& size() const { return size_; }  // one factor per spatial dim
  const std::string& data_format() const { return format_.name(); }

 protected:
  Variable forward(const Variable& x, bool training) override;

 private:
  int rank_;
  std::vector<int64_t> size_;
  DataFormat format_;
};

#define TAPEGRAD_SPATIAL_LAYER(Name, Base, rank, Arg, default_value)                                       \
  class Name : public Base {                                                                              \
   public:                                                                                                \
    TAPEGRAD_LAYER(Name)                                                                                  \
    explicit Name(const Arg& amount = default_value, SpatialOptions options = {})                         \
        : Base(#Name, rank, amount, std::move(options)) {}                                                \
  };
TAPEGRAD_SPATIAL_LAYER(ZeroPadding1D, ZeroPadding, 1, SpatialAmounts, 1)
TAPEGRAD_SPATIAL_LAYER(ZeroPadding2D, ZeroPadding, 2, SpatialAmounts, 1)
TAPEGRAD_SPATIAL_LAYER(ZeroPadding3D, ZeroPadding, 3, SpatialAmounts, 1)
TAPEGRAD_SPATIAL_LAYER(Cropping1D, Cropping, 1, SpatialAmounts, 1)
TAPEGRAD_SPATIAL_LAYER(Cropping2D, Cropping, 2, SpatialAmounts, 0)
TAPEGRAD_SPATIAL_LAYER(Cropping3D, Cropping, 3, SpatialAmounts, 1)
#undef TAPEGRAD_SPATIAL_LAYER

class UpSampling1D : public UpSampling {
 public:
  TAPEGRAD_LAYER(UpSampling1D)
  explicit UpSampling1D(const IntTuple& size = 2, SpatialOptions options = {})
      : UpSampling("UpSampling1D", 1, size, std::move(options), "nearest") {}
};
class UpSampling2D : public UpSampling {
 public:
  TAPEGRAD_LAYER(UpSampling2D)
  explicit UpSampling2D(const IntTuple& size = 2, SpatialOptions options = {}, std::string interpolation = "nearest")
      : UpSampling("UpSampling2D", 2, size, std::move(options), std::move(interpolation)) {}
};
class UpSampling3D : public UpSampling {
 public:
  TAPEGRAD_LAYER(UpSampling3D)
  explicit UpSampling3D(const IntTuple& size = 2, SpatialOptions options = {})
      : UpSampling("UpSampling3D", 3, size, std::move(options), "nearest") {}
};

// Flattens each sample; with channels_first inputs it first moves channels last, as Keras does
// to keep weight order when switching formats.
class Flatten : public Layer {
 public:
  TAPEGRAD_LAYER(Flatten)
  explicit Flatten(SpatialOptions options = {});
  Shape output_shape(const Shape& input_shape) const override;
  const std::string& data_format() const { return format_.name(); }

 protected:
  Variable forward(const Variable& x, bool training) override;

 private:
  DataFormat format_;
};

// Reshapes each sample to target_shape; one extent may be -1.
class Reshape : public Layer {
 public:
  TAPEGRAD_LAYER(Reshape)
  explicit Reshape(std::vector<int64_t> target_shape, LayerOptions options = {});
  Shape output_shape(const Shape& input_shape) const override;
  const std::vector<int64_t>& target_shape() const { return target_; }

 protected:
  Variable forward(const Variable& x, bool training) override;

 private:
  std::vector<int64_t> target_;
};

}  // namespace tapegrad
