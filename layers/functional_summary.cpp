// Model::summary(): Keras 2.15's table for a graph of layers. The layers are listed in Keras'
// order (keras/engine/functional.py, _map_graph_network): deepest from the outputs first, layers
// of one depth in the order a depth-first walk from the outputs first met them. A plain chain (one
// node per depth, each with one input, no layer called twice) gets the Sequential table; any other
// graph the wider one with "Connected to": each input of each of the layer's calls as
// name[call][0].
#include <algorithm>
#include <map>
#include <ostream>
#include <unordered_map>
#include <unordered_set>

#include "layers/summary_table.h"
#include "tapegrad/layers/functional.h"

namespace tapegrad {

namespace {

struct KerasOrder {
  std::vector<const Layer*> layers;                                       // Keras' model.layers
  std::unordered_map<const Layer*, std::vector<const GraphNode*>> nodes;  // each layer's calls, in call order
  std::map<int, std::vector<const GraphNode*>> nodes_by_depth;
};

KerasOrder keras_order(const std::vector<SymbolicTensor>& inputs, const std::vector<SymbolicTensor>& outputs) {
  std::vector<const GraphNode*> post;  // Keras' nodes_in_decreasing_depth
  std::unordered_map<const Layer*, int> first_seen;
  std::unordered_set<const GraphNode*> finished;
  auto walk = [&](auto& self, const GraphNode* n) -> void {
    if (finished.count(n)) return;
    first_seen.emplace(n->layer.get(), static_cast<int>(first_seen.size()));
    for (const SymbolicTensor& in : n->inputs) self(self, &in.node());
    finished.insert(n);
    post.push_back(n);
  };
  for (const SymbolicTensor& out : outputs) walk(walk, &out.node());
  std::unordered_map<const GraphNode*, int> node_depth;
  std::vector<std::pair<const Layer*, int>> layer_depth;  // in first-assignment order (a Python dict)
  auto depth_of_layer = [&](const Layer* l) -> int* {
    for (auto& [layer, d] : layer_depth)
      if (layer == l) return &d;
    return nullptr;
  };
  std::vector<const GraphNode*> depth_order;  // nodes in first-assignment order of node_depth
  auto set_node_depth = [&](const GraphNode* n, int d) {
    if (!node_depth.count(n)) depth_order.push_back(n);
    node_depth[n] = d;
  };
  for (auto it = post.rbegin(); it != post.rend(); ++it) {
    const GraphNode* n = *it;
    if (!node_depth.count(n)) set_node_depth(n, 0);
    int depth = node_depth[n];
    if (int* d = depth_of_layer(n->layer.get())) depth = std::max(depth, *d);
    if (int* d = depth_of_layer(n->layer.get()))
      *d = depth;
    else
      layer_depth.emplace_back(n->layer.get(), depth);
    node_depth[n] = depth;
    for (const SymbolicTensor& in : n->inputs) {
      const GraphNode* parent = &in.node();
      set_node_depth(parent, std::max(depth + 1, node_depth.count(parent) ? node_depth[parent] : 0));
    }
  }
  for (const SymbolicTensor& in : inputs)  // an input no output uses
    if (!depth_of_layer(in.node().layer.get())) {
      layer_depth.emplace_back(in.node().layer.get(), 0);
      first_seen[in.node().layer.get()] = -1;
      set_node_depth(&in.node(), 0);
    }
  KerasOrder order;
  for (const GraphNode* n : depth_order) order.nodes_by_depth[node_depth[n]].push_back(n);
  std::map<int, std::vector<const Layer*>, std::greater<>> by_depth;
  for (const auto& [layer, d] : layer_depth) by_depth[d].push_back(layer);
  for (auto& [d, layers] : by_depth) {
    std::stable_sort(layers.begin(), layers.end(), [&](const Layer* a, const Layer* b) { return first_seen[a] < first_seen[b]; });
    order.layers.insert(order.layers.end(), layers.begin(), layers.end());
  }
  for (const GraphNode* n : post) order.nodes[n->layer.get()].push_back(n);
  for (const SymbolicTensor& in : inputs)
    if (!order.nodes.count(in.node().layer.get())) order.nodes[in.node().layer.get()].push_back(&in.node());
  for (auto& [layer, nodes] : order.nodes)
    std::sort(nodes.begin(), nodes.end(), [](const GraphNode* a, const GraphNode* b) { return a->call_index < b->call_index; });
  return order;
}

// Keras' layer.output_shape: an Input's is a list of one shape; a layer called with different
// output shapes has "multiple".
std::string output_shape_str(const Layer& layer, const std::vector<const GraphNode*>& nodes) {
  if (dynamic_cast<const InputLayer*>(&layer)) return "[" + with_batch_str(nodes.at(0)->shape) + "]";
  for (const GraphNode* n : nodes)
    if (n->shape != nodes[0]->shape) return "multiple";
  return with_batch_str(nodes.at(0)->shape);
}

}  // namespace

void Model::summary(std::ostream& os) const {
  const KerasOrder order = keras_order(inputs_, outputs_);
  bool chain = true;
  for (const auto& [depth, nodes] : order.nodes_by_depth)
    if (nodes.size() > 1 || (nodes.size() == 1 && nodes[0]->inputs.size() > 1)) chain = false;
  for (const auto& [layer, nodes] : order.nodes)
    if (nodes.size() > 1) chain = false;  // a shared layer
  const int line_length = chain ? 65 : 98;
  const std::vector<int> ends = chain ? std::vector<int>{29, 55, 65} : std::vector<int>{29, 58, 68, 98};
  os << "Model: \"" << name() << "\"\n" << std::string(static_cast<size_t>(line_length), '_') << "\n";
  if (chain)
    summary_table::print_row(os, {"Layer (type)", "Output Shape", "Param #"}, ends);
  else
    summary_table::print_row(os, {"Layer (type)", "Output Shape", "Param #", "Connected to"}, ends);
  os << std::string(static_cast<size_t>(line_length), '=') << "\n";
  for (const Layer* layer : order.layers) {
    const auto& nodes = order.nodes.at(layer);
    std::vector<std::string> fields{layer->name() + " (" + layer->type() + ")", output_shape_str(*layer, nodes),
                                    std::to_string(layer->count_params())};
    if (!chain) {
      std::vector<std::string> connections;
      for (const GraphNode* n : nodes)
        for (const SymbolicTensor& in : n->inputs)
          connections.push_back(in.node().layer->name() + "[" + std::to_string(in.node().call_index) + "][0]");
      fields.push_back(summary_table::python_list(connections));
    }
    summary_table::print_row(os, fields, ends);
    os << std::string(static_cast<size_t>(line_length), ' ') << "\n";
  }
  summary_table::print_totals(os, *this, line_length);
  print_dtype_policies(os);
  os << std::string(static_cast<size_t>(line_length), '_') << "\n";
}

}  // namespace tapegrad
