#include "layers/graph_order.h"

#include <algorithm>
#include <unordered_set>

namespace tapegrad::graph_order {

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

std::string output_shape_str(const Layer& layer, const std::vector<const GraphNode*>& nodes) {
  const std::vector<Shape>& shapes = nodes.at(0)->shapes;
  for (const GraphNode* n : nodes)
    if (n->shapes != shapes) return "multiple";
  // One output: its shape; several (a recurrent layer's output and states): a list, as Keras.
  if (shapes.size() == 1 && !dynamic_cast<const InputLayer*>(&layer)) return with_batch_str(shapes[0]);
  std::string list = "[";
  for (size_t i = 0; i < shapes.size(); ++i) list += (i ? ", " : "") + with_batch_str(shapes[i]);
  return list + "]";
}

}  // namespace tapegrad::graph_order
