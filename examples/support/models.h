#pragma once
// The example networks, shared by the programs and the tests.
#include <memory>

#include "tapegrad/tapegrad.h"

namespace examples {

// Fashion-MNIST: two conv/pool stages and a dense head; logits out. About 0.42M parameters.
std::shared_ptr<tapegrad::Sequential> fashion_mnist_cnn();

// Keras' classic examples/cifar10_cnn.py (1,250,858 parameters), with logits out (the loss takes
// from_logits) instead of the final softmax.
std::shared_ptr<tapegrad::Sequential> keras_cifar10_cnn();

// ResNet-20 for CIFAR-10 (He et al. 2016, section 4.2): a 3x3 conv, three stages of three basic
// blocks with 16, 32 and 64 filters, global average pooling, a dense layer; logits out. The first
// block of stages 2 and 3 halves the resolution and uses a projection shortcut (1x1 conv, stride
// 2, BatchNorm); the others add their input unchanged. A C++ class composing layers: its forward
// is ordinary code, recorded on the tape as it runs. Parameters are named by path:
// "stage2_block1/conv1/kernel", "head/bias".
class ResNet20 : public tapegrad::Layer {
 public:
  explicit ResNet20(int64_t classes = 10);

 protected:
  tapegrad::Variable forward(const tapegrad::Variable& x, bool training) override;

 private:
  class BasicBlock;
  int64_t classes_;
  std::shared_ptr<tapegrad::Conv2D> stem_;
  std::shared_ptr<tapegrad::BatchNormalization> stem_bn_;
  std::vector<std::shared_ptr<BasicBlock>> blocks_;
  std::shared_ptr<tapegrad::GlobalAveragePooling2D> pool_;
  std::shared_ptr<tapegrad::Dense> head_;
};

}  // namespace examples
