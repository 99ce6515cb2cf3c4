#pragma once
// The Keras functional API guide's models, written as the guide writes them, for the tests that
// compare with what Keras prints or saves for them (summaries.json, keras215_toy_resnet.json).
#include <memory>

#include "tapegrad/layers/conv.h"
#include "tapegrad/layers/dense.h"
#include "tapegrad/layers/dropout.h"
#include "tapegrad/layers/functional.h"
#include "tapegrad/layers/merge.h"
#include "tapegrad/layers/pooling.h"

namespace keras_guide {

namespace tg = tapegrad;

// "A toy ResNet model" for CIFAR-10 (keras-io guides/functional_api.py), its layers named as in
// a fresh Keras session.
inline std::shared_ptr<tg::Model> toy_resnet() {
  auto inputs = tg::Input({32, 32, 3}, {.name = "img"});
  auto x = tg::Conv2D(32, 3, {.activation = "relu"})(inputs);
  x = tg::Conv2D(64, 3, {.activation = "relu"})(x);
  auto block_1_output = tg::MaxPooling2D(3)(x);
  x = tg::Conv2D(64, 3, {.padding = "same", .activation = "relu"})(block_1_output);
  x = tg::Conv2D(64, 3, {.padding = "same", .activation = "relu"})(x);
  auto block_2_output = tg::Add()({x, block_1_output});
  x = tg::Conv2D(64, 3, {.padding = "same", .activation = "relu"})(block_2_output);
  x = tg::Conv2D(64, 3, {.padding = "same", .activation = "relu"})(x);
  auto block_3_output = tg::Add()({x, block_2_output});
  x = tg::Conv2D(64, 3, {.activation = "relu"})(block_3_output);
  x = tg::GlobalAveragePooling2D()(x);
  x = tg::Dense(256, {.activation = "relu"})(x);
  x = tg::Dropout(0.5f)(x);
  auto outputs = tg::Dense(10)(x);
  return std::make_shared<tg::Model>(std::vector<tg::SymbolicTensor>{inputs}, std::vector<tg::SymbolicTensor>{outputs},
                                     "toy_resnet");
}

}  // namespace keras_guide
