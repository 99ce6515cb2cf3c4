// The one registry of layer classes: every family's codecs, looked up by tapegrad class (to write)
// or by Keras class name (to read).
#include <algorithm>

#include "layers/keras_json/layer_codecs.h"
#include "tapegrad/core/error.h"

namespace tapegrad::keras_json {

const std::vector<LayerCodec>& layer_codecs() {
  static const std::vector<LayerCodec> all = [] {
    std::vector<LayerCodec> v;
    for (auto family : {core_codecs, convolution_codecs, pooling_codecs, reshaping_codecs, merge_codecs,
                        normalization_codecs, activation_codecs, recurrent_codecs}) {
      std::vector<LayerCodec> f = family();
      for (auto& c : f) {
        for (const auto& other : v)
          if (other.class_name == c.class_name || other.type == c.type)
            fail("keras_json", "two codecs for the class " + c.class_name);  // a mistake here, found at start
        v.push_back(std::move(c));
      }
    }
    return v;
  }();
  return all;
}

const LayerCodec* codec_for(const Layer& layer) {
  for (const auto& c : layer_codecs())
    if (c.type == std::type_index(typeid(layer))) return &c;
  return nullptr;
}

const LayerCodec* codec_named(const std::string& class_name) {
  for (const auto& c : layer_codecs())
    if (c.class_name == class_name) return &c;
  return nullptr;
}

std::vector<std::string> supported_class_names() {
  std::vector<std::string> names{"Functional", "InputLayer", "Sequential"};
  for (const auto& c : layer_codecs()) names.push_back(c.class_name);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace tapegrad::keras_json
