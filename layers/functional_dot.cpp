// Model::to_dot(): keras/utils/vis_utils.py model_to_dot (Keras 2.15) for a graph of layers: one
// record node per layer in Keras' order, labelled "name|Class" (with shapes:
// "{name|Class}|{input:|output:}|{{in}|{out}}"), one edge per distinct connection.
#include <set>
#include <sstream>

#include "layers/graph_order.h"
#include "tapegrad/core/error.h"
#include "tapegrad/layers/functional.h"

namespace tapegrad {

namespace {
// Characters that a record label or a quoted DOT string treats specially.
std::string escaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\' || c == '{' || c == '}' || c == '|' || c == '<' || c == '>') out += '\\';
    out += c;
  }
  return out;
}
}  // namespace

std::string Model::to_dot(const ToDotOptions& options) const {
  if (options.rankdir != "TB" && options.rankdir != "LR" && options.rankdir != "BT" && options.rankdir != "RL")
    fail(label(), "to_dot: rankdir must be \"TB\", \"LR\", \"BT\" or \"RL\", got \"" + options.rankdir + "\"");
  const graph_order::KerasOrder order = graph_order::keras_order(inputs_, outputs_);
  std::ostringstream dot;
  dot << "digraph \"" << escaped(name()) << "\" {\n";
  dot << "  graph [rankdir=" << options.rankdir << "];\n";
  dot << "  node [shape=record];\n";
  for (const Layer* layer : order.layers) {
    const auto& nodes = order.nodes.at(layer);
    std::string text = escaped(layer->type());
    if (options.show_layer_names) text = escaped(layer->name()) + "|" + text;
    if (options.show_shapes) {
      // Keras' layer.input_shape: the shape of the one input, or a list for several inputs.
      std::string in;
      const GraphNode& first = *nodes.at(0);
      if (first.inputs.empty()) {
        in = graph_order::output_shape_str(*layer, nodes);
      } else if (first.inputs.size() == 1) {
        in = with_batch_str(first.inputs[0].shape());
      } else {
        for (size_t i = 0; i < first.inputs.size(); ++i) in += (i ? ", " : "[") + with_batch_str(first.inputs[i].shape());
        in += "]";
      }
      text = "{" + text + "}|{input:|output:}|{{" + escaped(in) + "}|{" +
             escaped(graph_order::output_shape_str(*layer, nodes)) + "}}";
    }
    dot << "  \"" << escaped(layer->name()) << "\" [label=\"" << text << "\"];\n";
  }
  std::set<std::pair<std::string, std::string>> edges;
  for (const Layer* layer : order.layers)
    for (const GraphNode* n : order.nodes.at(layer))
      for (const SymbolicTensor& in : n->inputs) {
        const std::string from = in.node().layer->name();
        if (!edges.insert({from, layer->name()}).second) continue;  // drawn once, as Keras' add_edge
        dot << "  \"" << escaped(from) << "\" -> \"" << escaped(layer->name()) << "\";\n";
      }
  dot << "}\n";
  return dot.str();
}

}  // namespace tapegrad
