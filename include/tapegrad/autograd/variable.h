#pragma once
// Variable: a handle (shared, like torch::Tensor) to a value, its gradient and whether one is
// wanted. Ops on Variables record a node of the graph that produced their result (autograd/tape.h)
// while recording is on and any input requires a gradient; backward() replays that graph in
// reverse. A graph lives as long as a variable computed from it, and independent graphs coexist.
#include <memory>
#include <string>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

namespace detail {
struct Node;  // autograd/tape.cpp
struct VariableImpl {
  Tensor value;
  Tensor grad;  // undefined until a backward pass reaches this variable
  bool requires_grad = false;
  std::shared_ptr<Node> node;  // the op that produced this variable; null for leaves
  Tensor mask;                 // Keras' _keras_mask (see Variable::mask); undefined: none
};
}  // namespace detail

// Options of a backward pass.
struct BackwardOptions {
  // Keep the graph (its nodes and saved tensors) for another backward pass through it. Without
  // it, backward() frees every node it walked, and reaching one again is an error.
  bool retain_graph = false;
};

class Variable {
 public:
  // An undefined variable (defined() is false).
  Variable() = default;
  // A leaf: parameters and inputs. requires_grad = true makes backward() fill its grad().
  explicit Variable(Tensor value, bool requires_grad = false);

  bool defined() const { return impl_ != nullptr; }
  const Tensor& value() const;
  Tensor& value();
  const Shape& shape() const { return value().shape(); }
  int rank() const { return value().rank(); }
  int64_t dim(int axis) const { return value().dim(axis); }
  int64_t numel() const { return value().numel(); }
  float item() const { return value().item(); }

  // The accumulated gradient; undefined before the first backward pass that reaches this.
  const Tensor& grad() const;
  void zero_grad();  // forgets the gradient (undefined again)
  bool requires_grad() const { return impl_ && impl_->requires_grad; }
  void set_requires_grad(bool on);
  // True if an op produced this variable (false for leaves).
  bool is_leaf() const { return !impl_ || !impl_->node; }

  // Keras' mask (its tensor's _keras_mask): which steps of a sequence are real, (batch, steps) of
  // 0 and 1 for a (batch, steps, ...) value. Set by the layer that made this variable
  // (Embedding with mask_zero, Masking), passed on by layers that take masks, read by the
  // recurrent layers; ops do not carry it (an op's result has none). Undefined: no mask.
  const Tensor& mask() const;
  void set_mask(Tensor mask);

  // A new leaf sharing this value's storage, cut off from the tape: gradients stop here.
  Variable detach() const;

  // Backward pass from this variable: adds d(this)/d(leaf) into the grad() of every leaf that
  // requires a gradient. A scalar seeds with 1; otherwise pass the gradient of the final result
  // with respect to this variable (same shape). Frees the nodes it walked unless retain_graph.
  void backward(BackwardOptions options = {}) const;
  void backward(const Tensor& grad_output, BackwardOptions options = {}) const;

  // Identity of the underlying variable (copies of a handle compare equal).
  bool same_as(const Variable& other) const { return impl_ == other.impl_; }
  const std::shared_ptr<detail::VariableImpl>& impl() const { return impl_; }
  explicit Variable(std::shared_ptr<detail::VariableImpl> impl) : impl_(std::move(impl)) {}

 private:
  std::shared_ptr<detail::VariableImpl> impl_;
};

}  // namespace tapegrad
