// The merge layers: Keras' shape rules (keras/layers/merging/base_merge.py, concatenate.py,
// dot.py) and their errors, on the tape's broadcasting ops.
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

Shape Merge::output_shape(const Shape& input_shape) const {
  fail(label(), "takes a list of inputs (layer({a, b})); it was given one input of shape " + with_batch_str(input_shape));
}

Variable Merge::forward(const Variable& x, bool) {
  fail(label(), "takes a list of inputs (layer({a, b})); it was given one input of shape " + x.shape().str());
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

Concatenate::Concatenate(ConcatenateOptions options) : Merge("Concatenate", std::move(options.name)), axis_(options.axis) {}

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

Dot::Dot(DotOptions options) : Merge("Dot", options.name), options_(std::move(options)) {
  if (options_.axes.size() == 1) options_.axes.push_back(options_.axes[0]);
  if (options_.axes.size() != 2)
    fail(label(), "axes must be one axis or two (one per input), got " + std::to_string(options_.axes.size()));
}

std::pair<int, int> Dot::axes_for(int rank_a, int rank_b) const {
  const int a = options_.axes[0] < 0 ? options_.axes[0] + rank_a : options_.axes[0];
  const int b = options_.axes[1] < 0 ? options_.axes[1] + rank_b : options_.axes[1];
  return {a, b};
}

std::vector<Shape> Dot::output_shapes_list(const std::vector<Shape>& shapes) const {
  if (shapes.size() != 2) fail(label(), "takes exactly 2 inputs, got " + std::to_string(shapes.size()) + ": " + shapes_str(shapes));
  const int ra = shapes[0].rank() + 1, rb = shapes[1].rank() + 1;  // with the batch dim
  if (ra > 3 || rb > 3)
    fail(label(), "takes inputs of rank 2 or 3 (with the batch dim), got " + shapes_str(shapes));
  const auto [a, b] = axes_for(ra, rb);
  if (a <= 0 || a >= ra || b <= 0 || b >= rb)
    fail(label(), "axes {" + std::to_string(options_.axes[0]) + ", " + std::to_string(options_.axes[1]) +
                      "} are not non-batch axes of inputs " + shapes_str(shapes));
  if (shapes[0][a - 1] != shapes[1][b - 1])
    fail(label(), "incompatible input shapes: axis values " + std::to_string(shapes[0][a - 1]) +
                      " != " + std::to_string(shapes[1][b - 1]) + ". Full input shapes: " + shapes_str(shapes));
  // Keras' compute_output_shape: each shape without its summed axis, the second also without
  // its batch; a lone batch dim gets a 1.
  std::vector<int64_t> out;
  for (int d = 0; d < shapes[0].rank(); ++d)
    if (d != a - 1) out.push_back(shapes[0][d]);
  for (int d = 0; d < shapes[1].rank(); ++d)
    if (d != b - 1) out.push_back(shapes[1][d]);
  if (out.empty()) out.push_back(1);
  return {Shape(out)};
}

std::vector<Variable> Dot::forward_list(const std::vector<Variable>& inputs, bool) {
  Variable x = inputs[0], y = inputs[1];
  const int64_t batch = x.dim(0);
  const auto [a, b] = axes_for(x.rank(), y.rank());
  if (options_.normalize) {  // tf.linalg.l2_normalize: x / sqrt(max(sum(x^2), 1e-12))
    const Variable floor(Tensor::scalar(1e-12f));
    x = div(x, sqrt(maximum(sum(mul(x, x), {a}, true), floor)));
    y = div(y, sqrt(maximum(sum(mul(y, y), {b}, true), floor)));
  }
  // As one batched product: x to (batch, rows, n) with its summed axis last, y to (batch, n, cols).
  if (x.rank() == 3 && a == 1) x = permute(x, {0, 2, 1});
  if (y.rank() == 3 && b == 2) y = permute(y, {0, 2, 1});
  const int64_t n = x.dim(-1);
  const Variable product = matmul(reshape(x, {batch, -1, n}), reshape(y, {batch, n, -1}));
  std::vector<int64_t> out{batch};
  const Shape per_sample = output_shapes_list({inputs[0].shape().drop(0, 1), inputs[1].shape().drop(0, 1)})[0];
  for (int64_t d : per_sample) out.push_back(d);
  return {reshape(product, out)};
}

}  // namespace tapegrad
