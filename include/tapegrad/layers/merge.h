#pragma once
// Keras' merge layers: called on a list of inputs (layer({a, b}), symbolic or not). The
// elementwise ones take inputs of one rank whose dims match or are 1 (broadcast, as Keras);
// Subtract takes exactly two; Concatenate joins along an axis where the other dims match; Dot
// takes two and sums their product over one axis of each.
#include <string>
#include <utility>
#include <vector>

#include "tapegrad/layers/layer.h"

namespace tapegrad {

// The base of the merge layers: they take a list of inputs, and refuse a single one.
class Merge : public Layer {
 public:
  Merge(std::string type, std::string name) : Layer(std::move(type), std::move(name)) {}
  Shape output_shape(const Shape& input_shape) const override;

 protected:
  bool takes_input_list() const override { return true; }
  Variable forward(const Variable& x, bool training) override;
};

// Elementwise merges: the inputs combined left to right.
class ElementwiseMerge : public Merge {
 public:
  ElementwiseMerge(std::string type, LayerOptions options) : Merge(std::move(type), std::move(options.name)) {}

 protected:
  std::vector<Variable> forward_list(const std::vector<Variable>& inputs, bool training) override;
  std::vector<Shape> output_shapes_list(const std::vector<Shape>& input_shapes) const override;
  virtual Variable combine(const Variable& a, const Variable& b) const = 0;
  // Applied to the combination of all n inputs (Average divides by n).
  virtual Variable finish(const Variable& combined, size_t n) const { return combined; }
  // Subtract takes exactly two inputs; the others any number from one.
  virtual bool exactly_two() const { return false; }
};

#define TAPEGRAD_ELEMENTWISE_MERGE(Name)                                          \
  class Name : public ElementwiseMerge {                                          \
   public:                                                                        \
    explicit Name(LayerOptions options = {}) : ElementwiseMerge(#Name, options) {} \
    TAPEGRAD_LAYER(Name)                                                          \
                                                                                  \
   protected:                                                                     \
    Variable combine(const Variable& a, const Variable& b) const override;       \
    Variable finish(const Variable& combined, size_t n) const override;          \
    bool exactly_two() const override;                                            \
  };

TAPEGRAD_ELEMENTWISE_MERGE(Add)
TAPEGRAD_ELEMENTWISE_MERGE(Subtract)
TAPEGRAD_ELEMENTWISE_MERGE(Multiply)
TAPEGRAD_ELEMENTWISE_MERGE(Average)
TAPEGRAD_ELEMENTWISE_MERGE(Maximum)
TAPEGRAD_ELEMENTWISE_MERGE(Minimum)
#undef TAPEGRAD_ELEMENTWISE_MERGE

struct ConcatenateOptions {
  int axis = -1;  // counted with the batch dim, as Keras' (0 is the batch and not allowed)
  std::string name = "";
};

class Concatenate : public Merge {
 public:
  explicit Concatenate(ConcatenateOptions options = {});
  TAPEGRAD_LAYER(Concatenate)
  int axis() const { return axis_; }

 protected:
  std::vector<Variable> forward_list(const std::vector<Variable>& inputs, bool training) override;
  std::vector<Shape> output_shapes_list(const std::vector<Shape>& input_shapes) const override;

 private:
  int axis_;
};

struct DotOptions {
  std::vector<int> axes = {-1, -1};  // the axis of each input that is summed over (with the batch dim;
                                     // one value for both: {1})
  bool normalize = false;            // L2-normalize along those axes first: the cosine similarity
  std::string name = "";
};

// Keras' Dot: the batchwise dot product of two inputs along one axis each (keras.backend.batch_dot).
// (batch, n) . (batch, n) -> (batch, 1); (batch, a, n) . (batch, b, n) with axes 2 -> (batch, a, b).
class Dot : public Merge {
 public:
  explicit Dot(DotOptions options = {});
  TAPEGRAD_LAYER(Dot)
  const DotOptions& options() const { return options_; }

 protected:
  std::vector<Variable> forward_list(const std::vector<Variable>& inputs, bool training) override;
  std::vector<Shape> output_shapes_list(const std::vector<Shape>& input_shapes) const override;

 private:
  DotOptions options_;
  // The two inputs' summed axes, counted with the batch dim, for inputs of these ranks.
  std::pair<int, int> axes_for(int rank_a, int rank_b) const;
};

}  // namespace tapegrad
