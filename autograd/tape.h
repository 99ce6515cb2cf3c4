#pragma once
// The tape: a thread-local list of the differentiable ops executed since the last backward pass.
// Each node holds its inputs, its output, and a backward closure that owns whatever tensors the
// forward pass saved. Ops create nodes through record(); backward() walks the nodes in reverse.
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <vector>

#include "autograd/variable.h"

namespace tapegrad {

// What a backward closure sees: which inputs want a gradient, and where to put it.
class GradSink {
 public:
  explicit GradSink(std::vector<Tensor>& grads, const std::vector<bool>& needed) : grads_(grads), needed_(needed) {}
  // Whether input i requires a gradient (skip computing it otherwise).
  bool needs(size_t i) const { return needed_[i]; }
  // The gradient with respect to input i; its shape must be input i's shape.
  void set(size_t i, Tensor grad) { grads_[i] = std::move(grad); }

 private:
  std::vector<Tensor>& grads_;
  const std::vector<bool>& needed_;
};

using BackwardFn = std::function<void(const Tensor& grad_output, GradSink& sink)>;

// Wraps `value` as the output of op `name` applied to `inputs`. Records a node when recording is
// on and some input requires a gradient; the output then requires a gradient too.
Variable record(const char* name, Tensor value, std::initializer_list<Variable> inputs, BackwardFn backward);
Variable record(const char* name, Tensor value, const std::vector<Variable>& inputs, BackwardFn backward);

// Whether ops on this thread record themselves (default: yes).
bool is_recording();

// Stops recording on this thread for its lifetime: inference and optimizer updates run under it.
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Gives this thread a fresh, recording tape for its lifetime and restores the previous tape (and
// its recording state) afterwards: a self-contained forward/backward inside code that runs under
// NoGradGuard or beside a live graph (a custom regularizer's gradient inside Optimizer::step).
class IsolatedTape {
 public:
  IsolatedTape();
  ~IsolatedTape();
  IsolatedTape(const IsolatedTape&) = delete;
  IsolatedTape& operator=(const IsolatedTape&) = delete;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Drops every node of this thread's tape without a backward pass (e.g. after an evaluation
// step that recorded by mistake). Variables produced by those nodes can no longer backward.
void clear_tape();
// Number of nodes currently on this thread's tape.
size_t tape_size();

}  // namespace tapegrad
