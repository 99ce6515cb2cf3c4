#pragma once
// The registry of layer classes for architecture JSON: for each tapegrad layer class, Keras'
// class name, how its config is written (the class's own keys; the base keys name, trainable and
// dtype are written for every layer by model_json.cpp) and how a layer is made from one.
// Each family's codecs live beside the others of its family (codecs_*.cpp).
#include <functional>
#include <memory>
#include <string>
#include <typeindex>
#include <vector>

#include "layers/keras_json/config_io.h"
#include "tapegrad/layers/layer.h"

namespace tapegrad::keras_json {

struct LayerCodec {
  std::string class_name;  // Keras' ("Conv2D")
  std::type_index type;    // tapegrad's class, exactly: a subclass is another class
  std::function<void(const Layer&, ConfigWriter&)> write;
  // `name` is the config's name: given to the layer as its own.
  std::function<std::shared_ptr<Layer>(ConfigReader&, const std::string& name)> read;
};

// A codec from a class's fields described once (config_io.h): `Args` holds the constructor's
// arguments, `from_layer` fills them from a layer, `fields` describes them to a reader or a
// writer, `make` constructs.
template <class L, class Args, class FromLayer, class Fields, class Make>
LayerCodec codec(std::string class_name, FromLayer from_layer, Fields fields, Make make) {
  return LayerCodec{
      std::move(class_name), std::type_index(typeid(L)),
      [from_layer, fields](const Layer& layer, ConfigWriter& w) {
        Args a = from_layer(static_cast<const L&>(layer));
        fields(w, a);
      },
      [fields, make](ConfigReader& r, const std::string& name) -> std::shared_ptr<Layer> {
        Args a{};
        fields(r, a);
        r.finish();
        return make(a, name);
      }};
}

// The families (codecs_*.cpp).
std::vector<LayerCodec> core_codecs();          // Dense, Activation, Embedding, dropouts, noise, ...
std::vector<LayerCodec> convolution_codecs();   // Conv*, DepthwiseConv*, SeparableConv*, LocallyConnected*
std::vector<LayerCodec> pooling_codecs();       // pooling, global pooling
std::vector<LayerCodec> reshaping_codecs();     // Flatten, Reshape, Permute, RepeatVector, padding, cropping, upsampling
std::vector<LayerCodec> merge_codecs();         // Add, ..., Concatenate, Dot
std::vector<LayerCodec> normalization_codecs(); // BatchNormalization, LayerNormalization
std::vector<LayerCodec> activation_codecs();    // ReLU, LeakyReLU, PReLU, ELU, Softmax
std::vector<LayerCodec> recurrent_codecs();     // SimpleRNN, LSTM, GRU

// Every codec; the one for a layer's exact class or for a Keras class name (null if none).
const std::vector<LayerCodec>& layer_codecs();
const LayerCodec* codec_for(const Layer& layer);
const LayerCodec* codec_named(const std::string& class_name);
// The Keras class names tapegrad reads, sorted, for error messages.
std::vector<std::string> supported_class_names();

// A layer's whole entry as serialize_keras_object writes it ({"module", "class_name", "config",
// "registered_name"[, "build_config"]}); nested models included. `input_shapes` are the shapes
// (without batch) the layer was first called on in the graph being written: build_config.
Json layer_entry(const Layer& layer, const std::vector<Shape>& input_shapes);
// The layer an entry describes (model_json.cpp), nested models included.
std::shared_ptr<Layer> layer_from_entry(const Json& entry, const std::string& where);

}  // namespace tapegrad::keras_json
