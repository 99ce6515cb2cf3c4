#pragma once
// What the convolution-family layers share: integer-or-tuple arguments, data_format handling,
// and the Keras keyword arguments as option structs.
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "tapegrad/autograd/variable.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/layers/activation.h"
#include "tapegrad/layers/constraint.h"
#include "tapegrad/layers/initializer.h"
#include "tapegrad/layers/regularizer.h"

namespace tapegrad {

// Keras' "an integer or a tuple of integers": `3` or `{3, 5}`.
class IntTuple {
 public:
  IntTuple() = default;  // not given (Keras' None)
  IntTuple(int64_t v) : values_{v} {}                                  // NOLINT: implicit by design
  IntTuple(std::initializer_list<int64_t> v) : values_(v) {}           // NOLINT
  explicit IntTuple(std::vector<int64_t> v) : values_(std::move(v)) {}
  // One value per spatial dim: a single value is repeated; otherwise there must be `rank` values.
  // `what` names the argument and `owner` the layer in the error.
  // `rank` values (one value repeats); each must be >= minimum (sizes and strides: 1; paddings: 0).
  std::vector<int64_t> expand(int rank, const std::string& what, const std::string& owner, int64_t minimum = 1) const;
  const std::vector<int64_t>& values() const { return values_; }
  bool empty() const { return values_.empty(); }

 private:
  std::vector<int64_t> values_;
};


struct ConvOptions {
  IntTuple strides = 1;
  std::string padding = "valid";  // "valid", "same"; "causal" for Conv1D
  std::string data_format = "channels_last";
  IntTuple dilation_rate = 1;
  IntTuple output_padding = {};  // Conv*Transpose only; empty = Keras' None
  Activation activation = {};
  bool use_bias = true;
  Initializer kernel_initializer = "glorot_uniform";
  Initializer bias_initializer = "zeros";
  RegularizerOption kernel_regularizer = nullptr;
  RegularizerOption bias_regularizer = nullptr;
  RegularizerOption activity_regularizer = nullptr;
  ConstraintOption kernel_constraint = nullptr;
  ConstraintOption bias_constraint = nullptr;
  std::string name = "";
  std::string dtype = "";  // a dtype policy ("mixed_bfloat16"); empty: the global one
};

struct DepthwiseConvOptions {
  IntTuple strides = 1;
  std::string padding = "valid";
  std::string data_format = "channels_last";
  IntTuple dilation_rate = 1;
  int64_t depth_multiplier = 1;
  Activation activation = {};
  bool use_bias = true;
  Initializer depthwise_initializer = "glorot_uniform";
  Initializer bias_initializer = "zeros";
  RegularizerOption depthwise_regularizer = nullptr;
  RegularizerOption bias_regularizer = nullptr;
  RegularizerOption activity_regularizer = nullptr;
  ConstraintOption depthwise_constraint = nullptr;
  ConstraintOption bias_constraint = nullptr;
  std::string name = "";
};

struct SeparableConvOptions {
  IntTuple strides = 1;
  std::string padding = "valid";
  std::string data_format = "channels_last";
  IntTuple dilation_rate = 1;
  int64_t depth_multiplier = 1;
  Activation activation = {};
  bool use_bias = true;
  Initializer depthwise_initializer = "glorot_uniform";
  Initializer pointwise_initializer = "glorot_uniform";
  Initializer bias_initializer = "zeros";
  RegularizerOption depthwise_regularizer = nullptr;
  RegularizerOption pointwise_regularizer = nullptr;
  RegularizerOption bias_regularizer = nullptr;
  RegularizerOption activity_regularizer = nullptr;
  ConstraintOption depthwise_constraint = nullptr;
  ConstraintOption pointwise_constraint = nullptr;
  ConstraintOption bias_constraint = nullptr;
  std::string name = "";
};

// channels_first <-> channels_last at a layer's boundary. `rank` is the number of spatial dims.
class DataFormat {
 public:
  DataFormat(const std::string& name, const std::string& owner);
  bool channels_first() const { return channels_first_; }
  const std::string& name() const { return name_; }
  // Per-sample shapes (no batch): (C, *s) <-> (*s, C).
  Shape to_last(const Shape& per_sample) const;
  Shape from_last(const Shape& per_sample) const;
  // Batched variables: (B, C, *s) <-> (B, *s, C); identity for channels_last.
  Variable to_last(const Variable& x) const;
  Variable from_last(const Variable& x) const;

 private:
  std::string name_;
  bool channels_first_ = false;
};

}  // namespace tapegrad
