#include "autograd/tape.h"

#include <chrono>
#include <string>

#include "autograd/profiler.h"
#include "core/error.h"
#include "core/tensor_ops.h"

namespace tapegrad {

namespace {

using detail::VariableImpl;

struct Node {
  const char* name;
  std::vector<std::shared_ptr<VariableImpl>> inputs;
  std::shared_ptr<VariableImpl> output;
  BackwardFn backward;
};

struct Tape {
  std::vector<Node> nodes;
  uint64_t generation = 1;  // bumped whenever the tape is freed; stale variables see the change
  bool recording = true;

  void free() {
    nodes.clear();
    ++generation;
  }
};

thread_local Tape t_default_tape;
thread_local Tape* t_tape = &t_default_tape;

Tape& tape() { return *t_tape; }

// Adds g into v's gradient. Out of place: g may alias another variable's gradient tensor.
void accumulate(VariableImpl& v, Tensor g) {
  if (!v.grad.defined())
    v.grad = std::move(g);
  else
    v.grad = add(v.grad, g);
}

Variable record_impl(const char* name, Tensor value, const Variable* begin, const Variable* end, BackwardFn backward) {
  Tape& t = tape();
  if (profiler::enabled()) profiler::record_forward(name);
  bool any = false;
  for (const Variable* v = begin; v != end; ++v) {
    if (!v->defined()) fail(name, "input variable " + std::to_string(v - begin) + " is undefined");
    any = any || v->requires_grad();
  }
  if (!t.recording || !any) return Variable(std::move(value), false);
  auto out = std::make_shared<VariableImpl>();
  out->value = std::move(value);
  out->requires_grad = true;
  out->has_node = true;
  out->tape_generation = t.generation;
  out->node_index = t.nodes.size();
  Node node{name, {}, out, std::move(backward)};
  node.inputs.reserve(static_cast<size_t>(end - begin));
  for (const Variable* v = begin; v != end; ++v) node.inputs.push_back(v->impl());
  t.nodes.push_back(std::move(node));
  return Variable(out);
}

}  // namespace

Variable record(const char* name, Tensor value, std::initializer_list<Variable> inputs, BackwardFn backward) {
  return record_impl(name, std::move(value), inputs.begin(), inputs.end(), std::move(backward));
}

Variable record(const char* name, Tensor value, const std::vector<Variable>& inputs, BackwardFn backward) {
  return record_impl(name, std::move(value), inputs.data(), inputs.data() + inputs.size(), std::move(backward));
}

bool is_recording() { return tape().recording; }

NoGradGuard::NoGradGuard() : previous_(tape().recording) { tape().recording = false; }
NoGradGuard::~NoGradGuard() { tape().recording = previous_; }

struct IsolatedTape::State {
  Tape own;
  Tape* previous;
};

IsolatedTape::IsolatedTape() : state_(std::make_unique<State>()) {
  state_->previous = t_tape;
  // Generations stay unique across tapes, so a variable of one tape never matches another.
  state_->own.generation = t_tape->generation + (uint64_t{1} << 32);
  t_tape = &state_->own;
}

IsolatedTape::~IsolatedTape() { t_tape = state_->previous; }

void clear_tape() { tape().free(); }
size_t tape_size() { return tape().nodes.size(); }

namespace detail {

void run_backward(const std::shared_ptr<VariableImpl>& root, Tensor seed) {
  if (!root->requires_grad)
    fail("backward", "the variable does not require grad: no input of the ops that produced it requires grad");
  if (seed.shape() != root->value.shape())
    fail("backward", "output gradient has shape " + seed.shape().str() + ", expected the variable's shape " +
                         root->value.shape().str());
  Tape& t = tape();
  if (!root->has_node) {  // a leaf: its gradient is the seed itself
    accumulate(*root, std::move(seed));
    return;
  }
  if (root->tape_generation != t.generation || root->node_index >= t.nodes.size())
    fail("backward", "the tape that recorded this variable was already freed (by an earlier backward() or "
                     "clear_tape()); run the forward pass again to record a new one");

  // Free the tape however this ends: a half-replayed tape must not be replayed again.
  struct FreeOnExit {
    Tape& t;
    ~FreeOnExit() { t.free(); }
  } free_on_exit{t};

  root->grad = std::move(seed);
  std::vector<Tensor> grads;
  std::vector<bool> needed;
  for (size_t i = root->node_index + 1; i-- > 0;) {
    Node& node = t.nodes[i];
    if (!node.output->grad.defined()) continue;  // not on the path to the root
    grads.assign(node.inputs.size(), Tensor());
    needed.assign(node.inputs.size(), false);
    for (size_t k = 0; k < node.inputs.size(); ++k) needed[k] = node.inputs[k]->requires_grad;
    GradSink sink(grads, needed);
    if (profiler::enabled()) {
      const auto start = std::chrono::steady_clock::now();
      node.backward(node.output->grad, sink);
      profiler::add(node.name, "backward", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    } else {
      node.backward(node.output->grad, sink);
    }
    // Gradients of intermediate results are not kept (as in PyTorch): free them as we go.
    node.output->grad = Tensor();
    for (size_t k = 0; k < node.inputs.size(); ++k) {
      if (!needed[k] || !grads[k].defined()) continue;
      VariableImpl& in = *node.inputs[k];
      if (grads[k].shape() != in.value.shape())
        fail(node.name, "backward produced a gradient of shape " + grads[k].shape().str() + " for input " +
                            std::to_string(k) + " of shape " + in.value.shape().str());
      accumulate(in, std::move(grads[k]));
    }
  }
}

}  // namespace detail

}  // namespace tapegrad
