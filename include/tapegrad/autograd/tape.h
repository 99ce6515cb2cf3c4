#pragma once
// The tape, as a graph: each differentiable op executed while recording adds a node that holds its
// inputs and a backward closure owning whatever tensors the forward pass saved. The node belongs
// to its output variable (and to the nodes of the ops that consumed it), never to a thread-wide
// list: graphs that share nothing are independent, and a graph is freed with its last variable.
// backward() walks the nodes reachable from its root in the reverse of the order they were
// recorded in (a topological order, the same on every run) and frees them.
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <vector>

#include "tapegrad/autograd/variable.h"

namespace tapegrad {

// What a backward closure sees: which inputs want a gradient, and where to put it.
class GradSink {
 public:
  GradSink(std::vector<Tensor>& grads, const std::vector<bool>& needed, const std::vector<Tensor*>& accumulators)
      : grads_(grads), needed_(needed), accumulators_(accumulators), added_(needed.size(), false) {}
  // Whether input i requires a gradient (skip computing it otherwise).
  bool needs(size_t i) const { return needed_[i]; }
  // The gradient with respect to input i; its shape must be input i's shape.
  void set(size_t i, Tensor grad) { grads_[i] = std::move(grad); }

  // The gradient already summed for input i, from the consumers whose backward ran before this
  // one, when this backward may add its own gradient into it in place (the tape holds the only
  // reference to it); else null. A kernel that adds as it writes saves the tape a pass over
  // memory (read both, write the sum): a ResNet block's input gets its shortcut's gradient first,
  // then the first convolution's. After adding into it, call added(i) instead of set(i, ...).
  Tensor* accumulator(size_t i) const { return accumulators_[i]; }
  void added(size_t i) { added_[i] = true; }
  bool was_added(size_t i) const { return added_[i]; }

 private:
  std::vector<Tensor>& grads_;
  const std::vector<bool>& needed_;
  const std::vector<Tensor*>& accumulators_;
  std::vector<bool> added_;
};

using BackwardFn = std::function<void(const Tensor& grad_output, GradSink& sink)>;

// Wraps `value` as the output of op `name` applied to `inputs`. Records a node when recording is
// on and some input requires a gradient; the output then requires a gradient too. The node
// notes the storage version of every input and of the output (the tensors a backward may use):
// backward() refuses to run it if one of them was changed in place since.
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

// Turns recording on for its lifetime, whatever guard the caller holds, and restores the previous
// state afterwards (torch.enable_grad): a self-contained forward/backward inside code that runs
// under NoGradGuard, such as a custom regularizer's gradient inside Optimizer::step. Graphs are
// independent, so its graph never mixes with the caller's.
class EnableGradGuard {
 public:
  EnableGradGuard();
  ~EnableGradGuard();
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool previous_;
};

// Options of grad().
struct GradOptions {
  bool retain_graph = false;  // as BackwardOptions::retain_graph
  // An input that no output depends on gets an undefined tensor instead of an error.
  bool allow_unused = false;
};

// The gradients of the outputs with respect to `inputs` (leaves or intermediate results), as
// torch.autograd.grad: d(sum_k <grad_outputs[k], outputs[k]>)/d(inputs[i]). grad_outputs may be
// empty when every output has one element (each is seeded with 1). No variable's grad() changes.
std::vector<Tensor> grad(const std::vector<Variable>& outputs, const std::vector<Variable>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, GradOptions options = {});

// How many graph nodes exist (in every thread) and still hold their backward function: a graph
// is freed by the backward pass that walks it, or when the last variable computed from it goes.
size_t live_graph_nodes();

}  // namespace tapegrad
