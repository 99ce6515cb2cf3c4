#pragma once
// Variable: a handle (shared, like torch::Tensor) to a value, its gradient and whether one is
// wanted. Ops on Variables record themselves on the thread's tape (autograd/tape.h) while
// recording is on and any input requires a gradient; backward() replays that tape in reverse.
#include <memory>
#include <string>

#include "core/tensor.h"

namespace tapegrad {

namespace detail {
struct VariableImpl {
  Tensor value;
  Tensor grad;  // undefined until a backward pass reaches this variable
  bool requires_grad = false;
  // Set when an op on the tape produced this variable: which tape generation, which node.
  bool has_node = false;
  uint64_t tape_generation = 0;
  size_t node_index = 0;
};
}  // namespace detail

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
  bool is_leaf() const { return !impl_ || !impl_->has_node; }

  // A new leaf sharing this value's storage, cut off from the tape: gradients stop here.
  Variable detach() const;

  // Backward pass from this variable. A scalar seeds with 1; otherwise pass the gradient of the
  // final result with respect to this variable (same shape). Frees the tape afterwards.
  void backward() const;
  void backward(const Tensor& grad_output) const;

  // Identity of the underlying variable (copies of a handle compare equal).
  bool same_as(const Variable& other) const { return impl_ == other.impl_; }
  const std::shared_ptr<detail::VariableImpl>& impl() const { return impl_; }
  explicit Variable(std::shared_ptr<detail::VariableImpl> impl) : impl_(std::move(impl)) {}

 private:
  std::shared_ptr<detail::VariableImpl> impl_;
};

}  // namespace tapegrad
