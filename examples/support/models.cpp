#include "support/models.h"

namespace tg = tapegrad;

namespace examples {

std::shared_ptr<tg::Sequential> fashion_mnist_cnn() {
  return std::make_shared<tg::Sequential>(std::vector<tg::LayerRef>{
      tg::Conv2D(32, 3, {.padding = "same", .activation = "relu"}), tg::MaxPooling2D(2),
      tg::Conv2D(64, 3, {.padding = "same", .activation = "relu"}), tg::MaxPooling2D(2), tg::Flatten(), tg::Dropout(0.25f),
      tg::Dense(128, {.activation = "relu"}), tg::Dropout(0.25f), tg::Dense(10)},
      tg::LayerOptions{.name = "fashion_mnist_cnn"});
}

std::shared_ptr<tg::Sequential> keras_cifar10_cnn() {
  return std::make_shared<tg::Sequential>(std::vector<tg::LayerRef>{
      tg::Conv2D(32, 3, {.padding = "same", .activation = "relu"}), tg::Conv2D(32, 3, {.activation = "relu"}),
      tg::MaxPooling2D(2), tg::Dropout(0.25f), tg::Conv2D(64, 3, {.padding = "same", .activation = "relu"}),
      tg::Conv2D(64, 3, {.activation = "relu"}), tg::MaxPooling2D(2), tg::Dropout(0.25f), tg::Flatten(),
      tg::Dense(512, {.activation = "relu"}), tg::Dropout(0.5f), tg::Dense(10)},
      tg::LayerOptions{.name = "cifar10_cnn"});
}

// conv 3x3 - BN - relu - conv 3x3 - BN, plus the shortcut, then relu. Its output shape comes from
// the dry run of build() (no output_shape() override needed).
class ResNet20::BasicBlock : public tg::Layer {
 public:
  BasicBlock(int64_t filters, int64_t stride) : Layer("BasicBlock", "") {
    conv1_ = register_layer("conv1", std::make_shared<tg::Conv2D>(filters, 3, conv_options(stride)));
    bn1_ = register_layer("bn1", std::make_shared<tg::BatchNormalization>());
    conv2_ = register_layer("conv2", std::make_shared<tg::Conv2D>(filters, 3, conv_options(1)));
    bn2_ = register_layer("bn2", std::make_shared<tg::BatchNormalization>());
    if (stride != 1) {  // the input changes shape: project it
      project_ = register_layer("project", std::make_shared<tg::Conv2D>(filters, 1, tg::ConvOptions{
                                                                        .strides = stride, .use_bias = false,
                                                                        .kernel_initializer = "he_normal"}));
      project_bn_ = register_layer("project_bn", std::make_shared<tg::BatchNormalization>());
    }
  }

 protected:
  tg::Variable forward(const tg::Variable& x, bool training) override {
    // bn1 then relu as one fused op (the same values as tg::relu((*bn1_)(...))).
    tg::Variable y = bn1_->call_with_relu((*conv1_)(x, training), training);
    y = (*conv2_)(y, training);
    const tg::Variable shortcut = project_ ? (*project_bn_)((*project_)(x, training), training) : x;
    // bn2, the shortcut's add and the relu as one fused op (the same values as
    // tg::relu((*bn2_)(y) + shortcut)).
    return bn2_->call_add_relu(y, shortcut, training);
  }

 private:
  static tg::ConvOptions conv_options(int64_t stride) {
    return {.strides = stride, .padding = "same", .use_bias = false, .kernel_initializer = "he_normal"};
  }
  std::shared_ptr<tg::Conv2D> conv1_;
  std::shared_ptr<tg::BatchNormalization> bn1_;
  std::shared_ptr<tg::Conv2D> conv2_;
  std::shared_ptr<tg::BatchNormalization> bn2_;
  std::shared_ptr<tg::Conv2D> project_;
  std::shared_ptr<tg::BatchNormalization> project_bn_;
};

ResNet20::ResNet20(int64_t classes) : Layer("ResNet20", ""), classes_(classes) {
  stem_ = register_layer("stem", std::make_shared<tg::Conv2D>(16, 3, tg::ConvOptions{
                                                                      .padding = "same", .use_bias = false,
                                                                      .kernel_initializer = "he_normal"}));
  stem_bn_ = register_layer("stem_bn", std::make_shared<tg::BatchNormalization>());
  int stage = 1;
  for (int64_t filters : {16, 32, 64}) {
    for (int b = 1; b <= 3; ++b) {  // "stage2_block1", ...
      const std::string name = "stage" + std::to_string(stage) + "_block" + std::to_string(b);
      blocks_.push_back(register_layer(name, std::make_shared<BasicBlock>(filters, (b == 1 && filters != 16) ? 2 : 1)));
    }
    ++stage;
  }
  pool_ = register_layer("pool", std::make_shared<tg::GlobalAveragePooling2D>());
  head_ = register_layer("head", std::make_shared<tg::Dense>(classes));
}

tg::Variable ResNet20::forward(const tg::Variable& x, bool training) {
  tg::Variable y = stem_bn_->call_with_relu((*stem_)(x, training), training);
  for (const auto& b : blocks_) y = (*b)(y, training);
  return (*head_)((*pool_)(y, training), training);
}

}  // namespace examples
