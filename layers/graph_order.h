#pragma once
// A graph model's layers in Keras' order (keras/engine/functional.py, _map_graph_network): the
// deepest from the outputs first, layers of one depth in the order a depth-first walk from the
// outputs first met them; with each layer's calls in the graph, and the nodes by depth. Used by
// summary() and to_dot().
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "tapegrad/layers/functional.h"

namespace tapegrad::graph_order {

struct KerasOrder {
  std::vector<const Layer*> layers;                                       // Keras' model.layers
  std::unordered_map<const Layer*, std::vector<const GraphNode*>> nodes;  // each layer's calls, in call order
  std::map<int, std::vector<const GraphNode*>> nodes_by_depth;
};

KerasOrder keras_order(const std::vector<SymbolicTensor>& inputs, const std::vector<SymbolicTensor>& outputs);

// Keras' layer.output_shape: an Input's is a list of one shape; a layer called with different
// output shapes has "multiple".
std::string output_shape_str(const Layer& layer, const std::vector<const GraphNode*>& nodes);

}  // namespace tapegrad::graph_order
