// Model::summary(): Keras 2.15's table for a graph of layers, in Keras' layer order
// (layers/graph_order.h). A plain chain (one node per depth, each with one input, no layer called
// twice) gets the Sequential table; any other graph the wider one with "Connected to": each input
// of each of the layer's calls as name[call][output].
#include <ostream>

#include "layers/graph_order.h"
#include "layers/summary_table.h"
#include "tapegrad/layers/functional.h"

namespace tapegrad {

void Model::summary(std::ostream& os) const {
  const graph_order::KerasOrder order = graph_order::keras_order(inputs_, outputs_);
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
    std::vector<std::string> fields{layer->name() + " (" + layer->type() + ")", graph_order::output_shape_str(*layer, nodes),
                                    std::to_string(layer->count_params())};
    if (!chain) {
      std::vector<std::string> connections;
      for (const GraphNode* n : nodes)
        for (const SymbolicTensor& in : n->inputs)
          connections.push_back(in.node().layer->name() + "[" + std::to_string(in.node().call_index) + "][" +
                                std::to_string(in.index()) + "]");
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
