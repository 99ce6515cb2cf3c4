// The merge layers: Keras' shape rules (keras/layers/merging/base_merge.py, concatenate.py) and
// their errors, on the tape's broadcasting ops.
#include "tapegrad/layers/merge.h"

#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/error.h"

namespace tapegrad {

namespace {
std::string shapes_str(const std::vector<Shape>& shapes) {
  std::string s;
  for (size_t i = 0; i < shapes.size(); ++i) s += (i ? ", " : "") + with_batch_str(shapes[i]);
  return "[" + s + "]";
}
}  // namespace

ElementwiseMerge::ElementwiseMerge(std::string type, LayerOptions options) : Layer(std::move(type), std::move(options.name)) {}

Shape ElementwiseMerge::output_shape(const Shape& input_shape) const {
  fail(label(), "merges a list of inputs (layer({a, b})); it was given one input of shape " + with_batch_str(input_shape));
}

Variable ElementwiseMerge::forward(const Variable& x, bool) {
  fail(label(), "merges a list of inputs (layer({a, b})); it was given one input of shape " + x.shape().str());
}

std::vector<Shape> ElementwiseMerge::output_shapes_list(const std::vector<Shape>& shapes) const {
  if (exactly_two() && shapes.size() != 2)
    fail(label(), "takes exactly 2 inputs, got " + std::to_string(shapes.size()) + ": " + shapes_str(shapes));
  if (shapes.empty()) fail(label(), "needs at least 1 input, got 0");
  Shape out = shapes[0];
  for (size_t i = 1; i < shapes.size(); ++i) {
    const Shape& s = shapes[i];
    // Keras would expand inputs of lower rank; refusing is clearer than guessing which dims align.
    if (s.rank() != out.rank())
      fail(label(), "inputs must have one rank, got shapes " + shapes_str(shapes));
    for (int d = 0; d < s.rank(); ++d) {
      if (s[d] == out[d] || s[d] == 1) continue;
      if (out[d] == 1) {
        out[d] = s[d];
        continue;
      }
      fail(label(), "inputs have incompatible shapes " + shapes_str(shapes) + ": dim " + std::to_string(d + 1) +
                        " is " + std::to_string(out[d]) + " and " + std::to_string(s[d]) +
                        " (each dim must match or be 1)");
    }
  }
  return {out};
}

std::vector<Variable> ElementwiseMerge::forward_list(const std::vector<Variable>& inputs, bool) {
  Variable y = inputs[0];
  for (size_t i = 1; i < inputs.size(); ++i) y = combine(y, inputs[i]);
  return {finish(y, inputs.size())};
}

#define TAPEGRAD_MERGE_RULES(Name, combine_expr, finish_expr, two)                                      \
  Variable Name::combine(const Variable& a, const Variable& b) const { return combine_expr; }          \
  Variable Name::finish(const Variable& combined, size_t n) const { return finish_expr; }              \
  bool Name::exactly_two() const { return two; }

TAPEGRAD_MERGE_RULES(Add, add(a, b), ((void)n, combined), false)
TAPEGRAD_MERGE_RULES(Subtract, sub(a, b), ((void)n, combined), true)
TAPEGRAD_MERGE_RULES(Multiply, mul(a, b), ((void)n, combined), false)
TAPEGRAD_MERGE_RULES(Average, add(a, b), mul(combined, 1.0f / static_cast<float>(n)), false)
TAPEGRAD_MERGE_RULES(Maximum, maximum(a, b), ((void)n, combined), false)
TAPEGRAD_MERGE_RULES(Minimum, minimum(a, b), ((void)n, combined), false)
#undef TAPEGRAD_MERGE_RULES

Concatenate::Concatenate(ConcatenateOptions options) : Layer("Concatenate", std::move(options.name)), axis_(options.axis) {}

Shape Concatenate::output_shape(const Shape& input_shape) const {
  fail(label(), "joins a list of inputs (layer({a, b})); it was given one input of shape " + with_batch_str(input_shape));
}

Variable Concatenate::forward(const Variable& x, bool) {
  fail(label(), "joins a list of inputs (layer({a, b})); it was given one input of shape " + x.shape().str());
}

std::vector<Shape> Concatenate::output_shapes_list(const std::vector<Shape>& shapes) const {
  if (shapes.empty()) fail(label(), "needs at least 1 input, got 0");
  const int rank = shapes[0].rank() + 1;  // with the batch dim
  const int axis = axis_ < 0 ? axis_ + rank : axis_;
  if (axis <= 0 || axis >= rank)
    fail(label(), "axis " + std::to_string(axis_) + " is not a non-batch axis of inputs " + shapes_str(shapes));
  Shape out = shapes[0];
  for (size_t i = 1; i < shapes.size(); ++i) {
    const Shape& s = shapes[i];
    bool match = s.rank() == out.rank();
    for (int d = 0; match && d < s.rank(); ++d) match = d == axis - 1 || s[d] == out[d];
    if (!match)
      fail(label(), "requires inputs with matching shapes except for the concatenation axis " + std::to_string(axis_) +
                        ", got " + shapes_str(shapes));
    out[axis - 1] += s[axis - 1];
  }
  return {out};
}

std::vector<Variable> Concatenate::forward_list(const std::vector<Variable>& inputs, bool) {
  const int rank = inputs[0].rank();
  return {concat(inputs, axis_ < 0 ? axis_ + rank : axis_)};
}

}  // namespace tapegrad
