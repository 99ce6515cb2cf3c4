#pragma once
// Example networks written with the functional API (tg::Input, layers called on symbolic tensors,
// tg::Model): graphs that a Sequential stack cannot express.
#include <memory>

#include "tapegrad/tapegrad.h"

namespace examples {

// The Keras functional API guide's "toy ResNet": two conv layers, max pooling, two residual
// blocks of two 3x3 convs added to their input, a conv, global pooling, dense, dropout; logits.
std::shared_ptr<tapegrad::Model> toy_resnet(const tapegrad::Shape& input, int64_t classes);

// ResNet-20 (the same architecture as examples::ResNet20, the class version): BatchNormalization,
// ReLU and Add layers wired as a graph, 1x1 projection shortcuts where a stage halves the size.
std::shared_ptr<tapegrad::Model> resnet20_functional(const tapegrad::Shape& input, int64_t classes);

// An Inception-style network: a stem conv, then two blocks that concatenate four branches (1x1;
// 1x1 then 3x3; 1x1 then 5x5; 3x3 max pooling then 1x1), global pooling and a dense layer.
std::shared_ptr<tapegrad::Model> inception_net(const tapegrad::Shape& input, int64_t classes);

// A siamese pair: one convolutional tower (a shared Sequential) embeds both images; the squared
// difference of the embeddings goes to one logit, "same class".
std::shared_ptr<tapegrad::Model> siamese_net(const tapegrad::Shape& input);

}  // namespace examples
