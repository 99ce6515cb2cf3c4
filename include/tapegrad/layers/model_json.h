#pragma once
// Architecture as JSON, in Keras 2.15's model.to_json() format: {"class_name": "Functional" or
// "Sequential", "config": {"name", "layers": [{"module", "class_name", "config", "name",
// "inbound_nodes"}, ...], "input_layers", "output_layers"}, "keras_version", "backend"}.
// The weights are not in it: copy them by name (get_named_weights / set_weights), or load a
// checkpoint. A JSON that Keras 2.15 wrote loads here, for the layers tapegrad has:
//
//   std::string text = model.to_json();
//   std::shared_ptr<tg::Layer> copy = tg::model_from_json(text);
//   copy->set_weights(model.get_named_weights());  // same outputs
//
// Every tapegrad layer class has its Keras config, through one registry of classes; nested
// models and shared layers (a layer with several inbound nodes) are kept. What Keras' JSON cannot
// hold is refused with an error naming the layer and the option: a custom layer class, a custom
// initializer, regularizer or constraint, an activation made from a function or with arguments.
// Reading, an unknown class name or option is an error listing the supported ones.
#include <memory>
#include <string>

#include "tapegrad/layers/layer.h"

namespace tapegrad {

// The architecture of a graph Model or a Sequential. `indent` < 0: one line, as Keras writes it
// (json.dumps); otherwise that many spaces per level.
std::string to_json(const Layer& model, int indent = -1);

// The model a Keras JSON describes, with fresh weights: a tg::Model for "Functional" (the class
// Keras 2 writes for graph models; "Model" is read too) or a tg::Sequential for "Sequential"
// (std::dynamic_pointer_cast<tg::Model> for fit() with several outputs). A Sequential whose
// JSON gives its input shape is built.
std::shared_ptr<Layer> model_from_json(const std::string& json);

}  // namespace tapegrad
