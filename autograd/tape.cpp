#include "tapegrad/autograd/tape.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "tapegrad/autograd/profiler.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad {

namespace {
// Nodes are numbered in the order they are recorded, process-wide: a node's inputs were always
// recorded before it, so walking nodes by decreasing number is a topological order.
std::atomic<uint64_t> g_next_sequence{1};
std::atomic<int64_t> g_live_nodes{0};
thread_local bool t_recording = true;
}  // namespace

namespace detail {

// A tensor an op may have saved, and its storage's version when the op ran.
struct SavedVersion {
  Tensor tensor;  // shares the storage; holds no extra memory beyond what the graph keeps anyway
  uint64_t version;
};

struct Node {
  const char* name;
  uint64_t sequence;
  std::vector<std::shared_ptr<VariableImpl>> inputs;
  BackwardFn backward;
  // The inputs' values and the output's value as they were recorded: an op's backward may use
  // any of them, so changing one in place before backward makes its gradient wrong.
  std::vector<SavedVersion> saved;
  bool freed = false;

  Node(const char* n, uint64_t seq) : name(n), sequence(seq) { g_live_nodes.fetch_add(1, std::memory_order_relaxed); }
  ~Node() {
    release_inputs();
    if (!freed) g_live_nodes.fetch_sub(1, std::memory_order_relaxed);
  }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Drops the backward closure, the saved tensors and the edges to the inputs' nodes.
  void free() {
    if (freed) return;
    backward = nullptr;
    saved.clear();
    release_inputs();
    freed = true;
    g_live_nodes.fetch_sub(1, std::memory_order_relaxed);
  }

 private:
  // Lets go of the inputs. A graph thousands of ops deep (a long recurrence) would destroy its
  // nodes recursively and overflow the stack, so nodes that this one alone keeps alive are taken
  // out of their variables first and destroyed one after another.
  void release_inputs() {
    std::vector<std::shared_ptr<Node>> orphans;
    auto adopt = [&orphans](std::vector<std::shared_ptr<VariableImpl>>& edges) {
      for (auto& in : edges)
        if (in.use_count() == 1 && in->node && in->node.use_count() == 1) orphans.push_back(std::move(in->node));
      edges.clear();
      edges.shrink_to_fit();
    };
    adopt(inputs);
    while (!orphans.empty()) {
      std::shared_ptr<Node> n = std::move(orphans.back());
      orphans.pop_back();
      adopt(n->inputs);  // n dies at the end of this iteration with no deep chain left below it
    }
  }
};

}  // namespace detail

namespace {

using detail::Node;
using detail::VariableImpl;

// Adds g into `into`. Out of place: g may alias another variable's gradient tensor.
void accumulate(Tensor& into, Tensor g) {
  if (!into.defined())
    into = std::move(g);
  else
    into = add(into, g);
}

Variable record_impl(const char* name, Tensor value, const Variable* begin, const Variable* end, BackwardFn backward) {
  if (profiler::enabled()) profiler::record_forward(name);
  bool any = false;
  for (const Variable* v = begin; v != end; ++v) {
    if (!v->defined()) fail(name, "input variable " + std::to_string(v - begin) + " is undefined");
    any = any || v->requires_grad();
  }
  if (!t_recording || !any) return Variable(std::move(value), false);
  auto node = std::make_shared<Node>(name, g_next_sequence.fetch_add(1, std::memory_order_relaxed));
  node->backward = std::move(backward);
  node->inputs.reserve(static_cast<size_t>(end - begin));
  node->saved.reserve(static_cast<size_t>(end - begin) + 1);
  for (const Variable* v = begin; v != end; ++v) {
    node->inputs.push_back(v->impl());
    node->saved.push_back({v->value(), v->value().version()});
  }
  node->saved.push_back({value, value.version()});
  auto out = std::make_shared<VariableImpl>();
  out->value = std::move(value);
  out->requires_grad = true;
  out->node = std::move(node);
  return Variable(out);
}

std::string freed_message(const Node& node) {
  return std::string("the graph through this op was already freed by an earlier backward(); pass "
                     "{.retain_graph = true} to the first backward() to run another one through it, or "
                     "compute the result again (reached '") +
         node.name + "')";
}

// Where one backward pass sends gradients: into leaves' grad() (backward) or into a result
// vector (grad()).
struct Targets {
  // grad(): the variables asked for, by identity, and where their gradient goes; the
  // intermediate ones also by the node that produced them.
  std::unordered_map<const VariableImpl*, size_t> index;
  std::unordered_map<const Node*, size_t> by_node;  // a node has one output
  std::vector<Tensor>* results = nullptr;
  bool into_leaves = true;  // backward(): accumulate into every leaf that requires a gradient
};

// The nodes reachable from the roots, each once, in backward order (latest recorded first).
// Checks them all before anything runs, so a freed node or a changed saved tensor is an error
// that leaves every gradient as it was.
// Owning pointers: freeing one node must not destroy another that is still to be visited.
std::vector<std::shared_ptr<Node>> reachable_nodes(const std::vector<std::shared_ptr<VariableImpl>>& roots) {
  std::vector<std::shared_ptr<Node>> order, stack;
  std::unordered_set<const Node*> seen;
  for (const auto& r : roots)
    if (r->node && seen.insert(r->node.get()).second) stack.push_back(r->node);
  while (!stack.empty()) {
    std::shared_ptr<Node> n = std::move(stack.back());
    stack.pop_back();
    if (n->freed) fail("backward", freed_message(*n));
    for (const auto& s : n->saved)
      if (s.tensor.version() != s.version)
        fail("backward", std::string("a tensor saved by '") + n->name +
                             "' was modified in place after it was recorded (version " + std::to_string(s.version) +
                             ", now " + std::to_string(s.tensor.version()) + " of a " + s.tensor.shape().str() +
                             " tensor): its gradient would be wrong; change a copy (clone()) instead, or run "
                             "the forward pass again after the change");
    for (const auto& in : n->inputs)
      if (in->node && seen.insert(in->node.get()).second) stack.push_back(in->node);
    order.push_back(std::move(n));
  }
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a->sequence > b->sequence; });
  return order;
}

void run_graph(const std::vector<std::shared_ptr<VariableImpl>>& roots, std::vector<Tensor> seeds, bool retain_graph,
               Targets& targets) {
  const std::vector<std::shared_ptr<Node>> order = reachable_nodes(roots);

  // The gradient flowing into each node's output, summed over its consumers.
  std::unordered_map<const Node*, Tensor> pending;
  pending.reserve(order.size());
  auto deliver = [&](const std::shared_ptr<VariableImpl>& v, Tensor g) {
    if (targets.results) {
      const auto it = targets.index.find(v.get());
      if (it != targets.index.end() && !v->node) {  // a leaf asked for: its gradient is complete here
        accumulate((*targets.results)[it->second], g);
        return;
      }
    }
    if (v->node)
      accumulate(pending[v->node.get()], std::move(g));
    else if (targets.into_leaves && v->requires_grad)
      accumulate(v->grad, std::move(g));
  };
  for (size_t r = 0; r < roots.size(); ++r) deliver(roots[r], std::move(seeds[r]));

  // Free what was walked however this ends: a half-replayed graph must not be replayed again.
  struct FreeOnExit {
    const std::vector<std::shared_ptr<Node>>& nodes;
    bool retain;
    ~FreeOnExit() {
      if (!retain)
        for (const auto& n : nodes) n->free();
    }
  } free_on_exit{order, retain_graph};

  std::vector<Tensor> grads;
  std::vector<bool> needed;
  std::vector<Tensor*> accumulators;
  for (const auto& node_ptr : order) {
    Node* node = node_ptr.get();
    auto it = pending.find(node);
    if (it == pending.end()) continue;  // no gradient reached it (an input's backward gave none)
    const Tensor grad_output = std::move(it->second);
    pending.erase(it);
    // An intermediate result asked for: all of its consumers have run (they were recorded later).
    if (const auto t = targets.by_node.find(node); t != targets.by_node.end())
      accumulate((*targets.results)[t->second], grad_output);
    grads.assign(node->inputs.size(), Tensor());
    needed.assign(node->inputs.size(), false);
    accumulators.assign(node->inputs.size(), nullptr);
    for (size_t k = 0; k < node->inputs.size(); ++k) {
      needed[k] = node->inputs[k]->requires_grad;
      // An intermediate input's gradient summed so far, if nothing else holds it (it may be
      // another input's gradient too, or a seed the caller kept): the backward may add into it.
      const auto& in = node->inputs[k];
      if (!needed[k] || !in->node) continue;
      const auto p = pending.find(in->node.get());
      if (p != pending.end() && p->second.defined() && p->second.owns_storage_alone()) accumulators[k] = &p->second;
    }
    // An input listed more than once would hand out one accumulator twice: none for it then.
    for (size_t k = 0; k < accumulators.size(); ++k) {
      if (!accumulators[k]) continue;
      bool repeated = false;
      for (size_t j = k + 1; j < accumulators.size(); ++j)
        if (accumulators[j] == accumulators[k]) {
          repeated = true;
          accumulators[j] = nullptr;
        }
      if (repeated) accumulators[k] = nullptr;
    }
    GradSink sink(grads, needed, accumulators);
    if (profiler::enabled()) {
      const auto start = std::chrono::steady_clock::now();
      node->backward(grad_output, sink);
      profiler::add(node->name, "backward", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    } else {
      node->backward(grad_output, sink);
    }
    for (size_t k = 0; k < node->inputs.size(); ++k) {
      if (sink.was_added(k)) {
        if (!accumulators[k] || grads[k].defined())
          fail(node->name, "backward both added into and set the gradient of input " + std::to_string(k) +
                               ", or added without an accumulator");
        continue;  // already in pending
      }
      if (!needed[k] || !grads[k].defined()) continue;
      const auto& in = node->inputs[k];
      if (grads[k].shape() != in->value.shape())
        fail(node->name, "backward produced a gradient of shape " + grads[k].shape().str() + " for input " +
                             std::to_string(k) + " of shape " + in->value.shape().str());
      deliver(in, std::move(grads[k]));
    }
  }
}

void check_seed(const VariableImpl& root, const Tensor& seed, const std::string& what) {
  if (!root.requires_grad)
    fail("backward", what + " does not require grad: no input of the ops that produced it requires grad");
  if (!seed.defined()) fail("backward", "the output gradient for " + what + " is undefined");
  if (seed.shape() != root.value.shape())
    fail("backward", "output gradient has shape " + seed.shape().str() + ", expected the shape of " + what + " " +
                         root.value.shape().str());
}

}  // namespace

Variable record(const char* name, Tensor value, std::initializer_list<Variable> inputs, BackwardFn backward) {
  return record_impl(name, std::move(value), inputs.begin(), inputs.end(), std::move(backward));
}

Variable record(const char* name, Tensor value, const std::vector<Variable>& inputs, BackwardFn backward) {
  return record_impl(name, std::move(value), inputs.data(), inputs.data() + inputs.size(), std::move(backward));
}

bool is_recording() { return t_recording; }

NoGradGuard::NoGradGuard() : previous_(t_recording) { t_recording = false; }
NoGradGuard::~NoGradGuard() { t_recording = previous_; }

EnableGradGuard::EnableGradGuard() : previous_(t_recording) { t_recording = true; }
EnableGradGuard::~EnableGradGuard() { t_recording = previous_; }

size_t live_graph_nodes() { return static_cast<size_t>(std::max<int64_t>(0, g_live_nodes.load())); }

std::vector<Tensor> grad(const std::vector<Variable>& outputs, const std::vector<Variable>& inputs,
                         const std::vector<Tensor>& grad_outputs, GradOptions options) {
  if (outputs.empty()) fail("grad", "no outputs given");
  if (inputs.empty()) fail("grad", "no inputs given");
  if (!grad_outputs.empty() && grad_outputs.size() != outputs.size())
    fail("grad", std::to_string(grad_outputs.size()) + " output gradients given for " + std::to_string(outputs.size()) +
                     " outputs");
  std::vector<std::shared_ptr<VariableImpl>> roots;
  std::vector<Tensor> seeds;
  for (size_t k = 0; k < outputs.size(); ++k) {
    if (!outputs[k].defined()) fail("grad", "output " + std::to_string(k) + " is undefined");
    const std::string what = "output " + std::to_string(k);
    Tensor seed;
    if (grad_outputs.empty()) {
      if (outputs[k].numel() != 1)
        fail("grad", what + " has shape " + outputs[k].shape().str() +
                         "; only one-element outputs seed themselves, pass grad_outputs otherwise");
      seed = Tensor::ones(outputs[k].shape());
    } else {
      seed = grad_outputs[k].defined() ? grad_outputs[k].clone() : Tensor();
    }
    check_seed(*outputs[k].impl(), seed, what);
    roots.push_back(outputs[k].impl());
    seeds.push_back(std::move(seed));
  }
  std::vector<Tensor> results(inputs.size());
  Targets targets;
  targets.results = &results;
  targets.into_leaves = false;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) fail("grad", "input " + std::to_string(i) + " is undefined");
    if (!inputs[i].requires_grad()) fail("grad", "input " + std::to_string(i) + " does not require grad");
    if (!targets.index.emplace(inputs[i].impl().get(), i).second)
      fail("grad", "input " + std::to_string(i) + " is given twice");
    if (inputs[i].impl()->node) targets.by_node.emplace(inputs[i].impl()->node.get(), i);
  }
  run_graph(roots, std::move(seeds), options.retain_graph, targets);
  for (size_t i = 0; i < inputs.size(); ++i)
    if (!results[i].defined() && !options.allow_unused)
      fail("grad", "input " + std::to_string(i) + " (shape " + inputs[i].shape().str() +
                       ") is not used by the outputs; pass {.allow_unused = true} to get an undefined gradient");
  return results;
}

namespace detail {

void run_backward(const std::shared_ptr<VariableImpl>& root, Tensor seed, BackwardOptions options) {
  check_seed(*root, seed, "the variable");
  Targets targets;
  run_graph({root}, {std::move(seed)}, options.retain_graph, targets);
}

}  // namespace detail

}  // namespace tapegrad
