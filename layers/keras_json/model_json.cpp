// Models as Keras 2.15's JSON (keras/engine/functional.py: get_network_config and
// reconstruct_from_config; keras/engine/sequential.py: get_config and from_config).
//
// A graph's layers are listed in Keras' order (layers/graph_order.h), each with its inbound
// nodes: one per call, each a list of [layer name, node index, tensor index, call kwargs] for the
// call's inputs. Node indices count a layer's calls in this graph from 0, or from 1 for a nested
// model (Keras gives a model's node 0 to its own Input). Reading creates the layers in the listed
// order and calls them as their inputs become available, so a layer's calls keep their order.
#include "tapegrad/layers/model_json.h"

#include <map>
#include <optional>
#include <unordered_map>

#include "layers/graph_order.h"
#include "layers/keras_json/layer_codecs.h"
#include "tapegrad/core/error.h"
#include "tapegrad/layers/functional.h"
#include "tapegrad/layers/sequential.h"

namespace tapegrad::keras_json {

namespace {

const char* const kKerasVersion = "2.15.0";

// "Dense 'block1/dense'", as the layer's own errors name it.
std::string label_of(const Layer& layer) { return layer.type() + " '" + layer.path() + "'"; }

// A model's nodes in another graph count from 1 (see the top of this file): a graph model's, and a
// Sequential's that has an input shape (Keras gives it an InputLayer).
bool counts_from_one(const Layer& layer) {
  return typeid(layer) == typeid(Model) || (typeid(layer) == typeid(Sequential) && layer.built());
}

Json shape_json(const Shape& shape) {
  Json j = Json::array({nullptr});
  for (int64_t d : shape) j.push_back(d);
  return j;
}

Json dtype_json(const mixed_precision::Policy& policy) {
  if (policy.name() == "float32") return "float32";
  return Json{{"module", "keras.mixed_precision"},
              {"class_name", "Policy"},
              {"config", {{"name", policy.name()}}},
              {"registered_name", nullptr}};
}

std::string dtype_from_json(const Json& j, const std::string& owner) {
  std::string name;
  if (j.is_string()) name = j.get<std::string>();
  else if (j.is_object() && j.contains("config") && j.at("config").is_object() && j.at("config").contains("name") &&
           j.at("config").at("name").is_string())
    name = j.at("config").at("name").get<std::string>();
  else
    fail(owner, "dtype must be a dtype name or a Policy, got " + describe_value(j));
  if (name != "float32" && name != "mixed_bfloat16")
    fail(owner, "dtype '" + name + "' is not supported; tapegrad has the policies float32 and mixed_bfloat16");
  return name;
}

const Json& member(const Json& j, const char* key, const std::string& where) {
  if (!j.is_object() || !j.contains(key)) fail(where, std::string("has no \"") + key + "\"");
  return j.at(key);
}

std::string string_member(const Json& j, const char* key, const std::string& where) {
  const Json& v = member(j, key, where);
  if (!v.is_string()) fail(where, std::string(key) + " must be a string, got " + describe_value(v));
  return v.get<std::string>();
}

// (None, 32, 32, 3) -> (32, 32, 3); every dim but the batch must be known.
Shape shape_from_batch_shape(const Json& j, const std::string& owner) {
  if (!j.is_array() || j.empty()) fail(owner, "batch_input_shape must be a list (None, dims...), got " + describe_value(j));
  std::vector<int64_t> dims;
  for (size_t i = 1; i < j.size(); ++i) {
    if (j[i].is_null())
      fail(owner, "batch_input_shape " + j.dump() + " has a dim of unknown size (None); tapegrad's models need every dim but the batch");
    if (!(j[i].is_number_integer() || j[i].is_number_unsigned()) || j[i].get<int64_t>() < 1)
      fail(owner, "batch_input_shape " + j.dump() + " must hold positive integers");
    dims.push_back(j[i].get<int64_t>());
  }
  return Shape(dims);
}

// ---- writing ----

Json functional_config(const Model& model);
Json sequential_config(const Sequential& model);

Json build_config(const std::vector<Shape>& input_shapes) {
  if (input_shapes.empty()) return nullptr;
  if (input_shapes.size() == 1) return Json{{"input_shape", shape_json(input_shapes[0])}};
  Json shapes = Json::array();
  for (const Shape& s : input_shapes) shapes.push_back(shape_json(s));
  return Json{{"input_shape", shapes}};
}

Json entry(const std::string& module, const std::string& class_name, Json config, Json registered_name,
           const std::vector<Shape>& input_shapes) {
  Json e{{"module", module}, {"class_name", class_name}, {"config", std::move(config)}, {"registered_name", registered_name}};
  Json build = build_config(input_shapes);
  if (!build.is_null()) e["build_config"] = build;
  return e;
}

Json input_layer_entry(const std::string& name, const Shape& shape) {
  Json config{{"batch_input_shape", shape_json(shape)}, {"dtype", "float32"}, {"sparse", false}, {"ragged", false}, {"name", name}};
  return Json{{"module", "keras.layers"}, {"class_name", "InputLayer"}, {"config", config}, {"registered_name", nullptr}};
}

}  // namespace

Json layer_entry(const Layer& layer, const std::vector<Shape>& input_shapes) {
  if (typeid(layer) == typeid(Model))
    return entry("keras.src.engine.functional", "Functional", functional_config(static_cast<const Model&>(layer)),
                 "Functional", input_shapes);
  if (typeid(layer) == typeid(Sequential))
    return entry("keras", "Sequential", sequential_config(static_cast<const Sequential&>(layer)), nullptr, input_shapes);
  const LayerCodec* codec = codec_for(layer);
  if (!codec)
    fail(label_of(layer), "has no Keras config: architecture JSON holds tapegrad's own layer classes (" +
                            joined(supported_class_names()) + "), not " + typeid(layer).name());
  Json config{{"name", layer.name()}, {"trainable", layer.trainable()}, {"dtype", dtype_json(layer.dtype_policy())}};
  ConfigWriter w(config, label_of(layer));
  codec->write(layer, w);
  return entry("keras.layers", codec->class_name, std::move(config), nullptr, input_shapes);
}

namespace {

Json functional_config(const Model& model) {
  const graph_order::KerasOrder order = graph_order::keras_order(model.inputs(), model.outputs());
  // Node indices in this graph: each layer's calls here, counted from 0 (a model's from 1).
  std::unordered_map<const GraphNode*, int> index;
  for (const auto& [layer, nodes] : order.nodes)
    for (size_t i = 0; i < nodes.size(); ++i) index[nodes[i]] = static_cast<int>(i) + (counts_from_one(*layer) ? 1 : 0);
  auto tensor_ref = [&](const SymbolicTensor& t) {
    return Json::array({t.node().layer->name(), index.at(&t.node()), t.index()});
  };
  Json layers = Json::array();
  for (const Layer* layer : order.layers) {
    const auto& nodes = order.nodes.at(layer);
    Json e;
    if (const auto* in = dynamic_cast<const InputLayer*>(layer)) {
      e = input_layer_entry(in->name(), in->shape());
    } else {
      std::vector<Shape> first_shapes;
      for (const SymbolicTensor& t : nodes.front()->inputs) first_shapes.push_back(t.shape());
      e = layer_entry(*layer, first_shapes);
    }
    e["name"] = layer->name();
    Json inbound = Json::array();
    for (const GraphNode* n : nodes) {
      if (n->inputs.empty()) continue;  // an Input's own node
      Json call = Json::array();
      for (const SymbolicTensor& t : n->inputs) {
        Json ref = tensor_ref(t);
        ref.push_back(Json::object());  // the call's keyword arguments: none
        call.push_back(ref);
      }
      inbound.push_back(call);
    }
    e["inbound_nodes"] = inbound;
    layers.push_back(e);
  }
  Json inputs = Json::array(), outputs = Json::array();
  for (const auto& t : model.inputs()) inputs.push_back(tensor_ref(t));
  for (const auto& t : model.outputs()) outputs.push_back(tensor_ref(t));
  return Json{{"name", model.name()}, {"trainable", model.trainable()}, {"layers", layers},
              {"input_layers", inputs}, {"output_layers", outputs}};
}

Json sequential_config(const Sequential& model) {
  Json layers = Json::array();
  const auto& stack = model.layers();
  if (model.built() && !stack.empty()) layers.push_back(input_layer_entry(stack.front()->name() + "_input", model.input_shape()));
  // Each layer's input is the previous one's output.
  std::optional<Shape> shape;
  if (model.built()) shape = model.input_shape();
  for (size_t i = 0; i < stack.size(); ++i) {
    std::vector<Shape> in;
    if (shape) in.push_back(*shape);
    layers.push_back(layer_entry(*stack[i], in));
    if (shape) shape = stack[i]->output_shape(*shape);
  }
  return Json{{"name", model.name()}, {"layers", layers}};
}

// ---- reading ----

struct ReadLayer {
  std::shared_ptr<Layer> layer;
  std::optional<Shape> batch_input_shape;  // a Sequential's first layer may give its input shape
};

std::shared_ptr<Model> functional_from_config(const Json& config, const std::string& where);
std::shared_ptr<Sequential> sequential_from_config(const Json& config, const std::string& where);

ReadLayer read_entry(const Json& e, const std::string& where) {
  const std::string class_name = string_member(e, "class_name", where);
  const Json& config = member(e, "config", where);
  if (class_name == "Functional" || class_name == "Model") return {functional_from_config(config, where + " " + class_name)};
  if (class_name == "Sequential") return {sequential_from_config(config, where + " Sequential")};
  const LayerCodec* codec = codec_named(class_name);
  if (!codec)
    fail(where, "unknown layer class '" + class_name + "'; tapegrad reads: " + joined(supported_class_names()));
  if (!config.is_object()) fail(where, class_name + "'s config must be an object, got " + describe_value(config));
  const std::string name = string_member(config, "name", where + " " + class_name);
  const std::string owner = class_name + " '" + name + "'";
  ConfigReader r(config, owner);
  r.ignored("name");
  bool trainable = true;
  r("trainable", trainable);
  std::string dtype = "float32";
  r.ignored("dtype");
  if (config.contains("dtype") && !config.at("dtype").is_null()) dtype = dtype_from_json(config.at("dtype"), owner);
  ReadLayer out;
  r.ignored("batch_input_shape");
  // Read when every dim is known (Keras' Embedding writes [null, null] without an input_length).
  if (config.contains("batch_input_shape") && config.at("batch_input_shape").is_array()) {
    bool known = true;
    const Json& dims = config.at("batch_input_shape");
    for (size_t i = 1; i < dims.size(); ++i) known = known && !dims[i].is_null();
    if (known) out.batch_input_shape = shape_from_batch_shape(dims, owner);
  }
  out.layer = codec->read(r, name);
  out.layer->set_dtype_policy(dtype);
  if (!trainable) out.layer->set_trainable(false);
  return out;
}

Shape input_layer_shape(const Json& e, const std::string& where) {
  const Json& config = member(e, "config", where);
  const std::string owner = "InputLayer '" + (config.contains("name") && config.at("name").is_string() ? config.at("name").get<std::string>() : "") + "'";
  if (config.contains("batch_shape") && !config.contains("batch_input_shape"))
    fail(owner, "has \"batch_shape\", which Keras 3 writes; tapegrad reads Keras 2's format (\"batch_input_shape\")");
  for (const char* flag : {"sparse", "ragged"})
    if (config.contains(flag) && config.at(flag) == true) fail(owner, std::string("is ") + flag + "; tapegrad's inputs are dense");
  if (config.contains("dtype") && config.at("dtype").is_string()) {
    const std::string dtype = config.at("dtype").get<std::string>();
    // Integer inputs (token ids for an Embedding) travel as float32 values, exact below 2^24.
    if (dtype != "float32" && dtype != "int32" && dtype != "int64")
      fail(owner, "dtype '" + dtype + "' is not supported; inputs are float32 (or int32/int64 ids)");
  }
  return shape_from_batch_shape(member(config, "batch_input_shape", owner), owner);
}

// [layer name, node index, tensor index(, kwargs)]
struct TensorRef {
  std::string layer;
  int node = 0, tensor = 0;
};

TensorRef tensor_ref(const Json& j, const std::string& where) {
  if (j.is_object())
    fail(where, "has an inbound node in Keras 3's format ({\"args\", \"kwargs\"}); tapegrad reads Keras 2's");
  if (!j.is_array() || j.size() < 3 || j.size() > 4 || !j[0].is_string() || !j[1].is_number_integer() || !j[2].is_number_integer())
    fail(where, "a tensor reference must be [layer name, node index, tensor index, kwargs], got " + describe_value(j));
  if (j.size() == 4 && !(j[3].is_object() && j[3].empty()))
    fail(where, "calls '" + j[0].get<std::string>() + "' with the arguments " + j[3].dump() + ", which tapegrad does not take");
  return {j[0].get<std::string>(), j[1].get<int>(), j[2].get<int>()};
}

std::shared_ptr<Model> functional_from_config(const Json& config, const std::string& where) {
  const std::string name = string_member(config, "name", where);
  const std::string owner = "Functional '" + name + "'";
  struct Made {
    std::shared_ptr<Layer> layer;
    int first_index = 0;                  // the index of its first node here
    std::vector<std::vector<SymbolicTensor>> outputs;  // each node's, for the nodes made so far
    std::vector<std::vector<TensorRef>> pending;
  };
  std::vector<std::string> order;
  std::map<std::string, Made> made;
  const Json& layers = member(config, "layers", owner);
  if (!layers.is_array()) fail(owner, "layers must be a list");
  for (const Json& e : layers) {
    const std::string layer_name = string_member(e, "name", owner + " layer");
    const std::string at = owner + " layer '" + layer_name + "'";
    if (made.count(layer_name)) fail(owner, "lists two layers named '" + layer_name + "'");
    Made m;
    if (string_member(e, "class_name", at) == "InputLayer") {
      m.outputs.push_back({Input(input_layer_shape(e, at), {.name = layer_name})});
      m.layer = m.outputs.back()[0].node().layer;
    } else {
      m.layer = read_entry(e, at).layer;
      if (m.layer->name() != layer_name) fail(at, "its config names it '" + m.layer->name() + "'");
      m.first_index = counts_from_one(*m.layer) ? 1 : 0;
      const Json& inbound = member(e, "inbound_nodes", at);
      if (!inbound.is_array()) fail(at, "inbound_nodes must be a list");
      for (const Json& call : inbound) {
        if (call.is_object())
          fail(at, "has an inbound node in Keras 3's format ({\"args\", \"kwargs\"}); tapegrad reads Keras 2's");
        if (!call.is_array() || call.empty()) fail(at, "an inbound node must be a non-empty list of tensor references, got " + describe_value(call));
        std::vector<TensorRef> refs;
        for (const Json& t : call) refs.push_back(tensor_ref(t, at));
        m.pending.push_back(refs);
      }
    }
    order.push_back(layer_name);
    made.emplace(layer_name, std::move(m));
  }
  // The tensor a reference names, once its node has been made.
  auto find = [&](const TensorRef& ref, const std::string& at) -> const SymbolicTensor* {
    const auto it = made.find(ref.layer);
    if (it == made.end()) fail(at, "takes an input from '" + ref.layer + "', which is not among the model's layers");
    const int k = ref.node - it->second.first_index;
    if (k < 0) fail(at, "refers to node " + std::to_string(ref.node) + " of '" + ref.layer + "', which does not exist");
    if (k >= static_cast<int>(it->second.outputs.size())) return nullptr;
    const auto& outs = it->second.outputs[static_cast<size_t>(k)];
    if (ref.tensor < 0 || ref.tensor >= static_cast<int>(outs.size()))
      fail(at, "refers to output " + std::to_string(ref.tensor) + " of '" + ref.layer + "', which has " +
                   std::to_string(outs.size()));
    return &outs[static_cast<size_t>(ref.tensor)];
  };
  // Call each layer on its next node's inputs when they all exist, until every node is made.
  for (bool progress = true; progress;) {
    progress = false;
    for (const std::string& layer_name : order) {
      Made& m = made.at(layer_name);
      while (m.outputs.size() < m.pending.size()) {  // an Input has its one output and no pending node
        const std::vector<TensorRef>& refs = m.pending[m.outputs.size()];
        std::vector<SymbolicTensor> inputs;
        for (const TensorRef& ref : refs) {
          const SymbolicTensor* t = find(ref, owner + " layer '" + layer_name + "'");
          if (!t) break;
          inputs.push_back(*t);
        }
        if (inputs.size() != refs.size()) break;
        m.outputs.push_back(m.layer->call_all(inputs));
        progress = true;
      }
    }
  }
  for (const std::string& layer_name : order) {
    const Made& m = made.at(layer_name);
    if (dynamic_cast<InputLayer*>(m.layer.get())) continue;
    if (m.outputs.size() < m.pending.size()) {
      std::string missing;
      for (const TensorRef& ref : m.pending[m.outputs.size()])
        missing += (missing.empty() ? "" : ", ") + ref.layer + "[" + std::to_string(ref.node) + "]";
      fail(owner, "layer '" + layer_name + "' waits for inputs that are never made: " + missing);
    }
  }
  auto endpoints = [&](const char* key) {
    std::vector<SymbolicTensor> v;
    const Json& list = member(config, key, owner);
    if (!list.is_array() || list.empty()) fail(owner, std::string(key) + " must be a non-empty list");
    for (const Json& ref : list) {
      const SymbolicTensor* t = find(tensor_ref(ref, owner + " " + key), owner + " " + key);
      if (!t) fail(owner, std::string(key) + " names node " + ref.dump() + ", which is never made");
      v.push_back(*t);
    }
    return v;
  };
  auto model = std::make_shared<Model>(endpoints("input_layers"), endpoints("output_layers"), name);
  if (config.contains("trainable") && config.at("trainable") == false) model->set_trainable(false);
  return model;
}

std::shared_ptr<Sequential> sequential_from_config(const Json& config, const std::string& where) {
  // Keras 2's config is {"name", "layers"}; older ones are the list of layers alone.
  const Json& layers = config.is_array() ? config : member(config, "layers", where);
  const std::string name = config.is_object() && config.contains("name") ? string_member(config, "name", where) : "";
  const std::string owner = "Sequential '" + name + "'";
  if (!layers.is_array()) fail(owner, "layers must be a list");
  auto model = std::make_shared<Sequential>(std::vector<LayerRef>{}, LayerOptions{name});
  std::optional<Shape> input_shape;
  if (config.is_object() && config.contains("build_input_shape") && !config.at("build_input_shape").is_null())
    input_shape = shape_from_batch_shape(config.at("build_input_shape"), owner);
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string at = owner + " layer " + std::to_string(i);
    if (string_member(layers[i], "class_name", at) == "InputLayer") {
      if (i != 0) fail(at, "an InputLayer must come first");
      input_shape = input_layer_shape(layers[i], at);
      continue;
    }
    ReadLayer r = read_entry(layers[i], at);
    if (r.batch_input_shape && model->layers().empty() && !input_shape) input_shape = r.batch_input_shape;
    model->add(r.layer);
  }
  if (input_shape) model->build(*input_shape);
  if (config.is_object() && config.contains("trainable") && config.at("trainable") == false) model->set_trainable(false);
  return model;
}

}  // namespace

std::shared_ptr<Layer> layer_from_entry(const Json& e, const std::string& where) { return read_entry(e, where).layer; }

}  // namespace tapegrad::keras_json

namespace tapegrad {

std::string to_json(const Layer& model, int indent) {
  using namespace keras_json;
  Json top;
  if (typeid(model) == typeid(Model))
    top = Json{{"class_name", "Functional"}, {"config", functional_config(static_cast<const Model&>(model))}};
  else if (typeid(model) == typeid(Sequential))
    top = Json{{"class_name", "Sequential"}, {"config", sequential_config(static_cast<const Sequential&>(model))}};
  else
    fail("to_json", label_of(model) + " is not a model: the architecture JSON is of a tg::Model or a tg::Sequential");
  top["keras_version"] = kKerasVersion;
  top["backend"] = "tensorflow";
  // Python's json.dumps separators (", " and ": ") for the one-line form, as Keras writes it.
  if (indent >= 0) return top.dump(indent);
  const std::string compact = top.dump();
  std::string out;
  out.reserve(compact.size() * 11 / 10);
  bool in_string = false, escaped = false;
  for (const char c : compact) {
    out += c;
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == ',' || c == ':') {
      out += ' ';
    }
  }
  return out;
}

std::string Model::to_json(int indent) const { return ::tapegrad::to_json(*this, indent); }
std::string Sequential::to_json(int indent) const { return ::tapegrad::to_json(*this, indent); }

std::shared_ptr<Layer> model_from_json(const std::string& text) {
  using namespace keras_json;
  Json top;
  try {
    top = Json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    fail("model_from_json", std::string("not valid JSON: ") + e.what());
  }
  const std::string class_name = string_member(top, "class_name", "model_from_json");
  const Json& config = member(top, "config", "model_from_json");
  if (class_name == "Functional" || class_name == "Model") return functional_from_config(config, "model_from_json");
  if (class_name == "Sequential") return sequential_from_config(config, "model_from_json");
  fail("model_from_json", "the model's class is '" + class_name + "'; tapegrad reads Functional (or Model) and Sequential");
}

}  // namespace tapegrad
