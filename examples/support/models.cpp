#include "support/models.h"

namespace tg = tapegrad;

namespace examples {

std::shared_ptr<tg::Sequential> fashion_mnist_cnn() {
  return std::make_shared<tg::Sequential>(std::vector<tg::LayerRef>{
      tg::Conv2D(32, 3, {.padding = "same", .activation = "relu"}), tg::MaxPooling2D(2),
      tg::Conv2D(64, 3, {.padding = "same", .activation = "relu"}), tg::MaxPooling2D(2), tg::Flatten(), tg::Dropout(0.25f),
      tg::Dense(128, {.activation = "relu"}), tg::Dropout(0.25f), tg::Dense(10)},
      "fashion_mnist_cnn");
}

std::shared_ptr<tg::Sequential> keras_cifar10_cnn() {
  return std::make_shared<tg::Sequential>(std::vector<tg::LayerRef>{
      tg::Conv2D(32, 3, {.padding = "same", .activation = "relu"}), tg::Conv2D(32, 3, {.activation = "relu"}),
      tg::MaxPooling2D(2), tg::Dropout(0.25f), tg::Conv2D(64, 3, {.padding = "same", .activation = "relu"}),
      tg::Conv2D(64, 3, {.activation = "relu"}), tg::MaxPooling2D(2), tg::Dropout(0.25f), tg::Flatten(),
      tg::Dense(512, {.activation = "relu"}), tg::Dropout(0.5f), tg::Dense(10)},
      "cifar10_cnn");
}

// conv 3x3 - BN - relu - conv 3x3 - BN, plus the shortcut, then relu.
class ResNet20::BasicBlock : public tg::Layer {
 public:
  BasicBlock(int64_t filters, int64_t stride)
      : Layer("BasicBlock", ""),
        conv1_(std::make_shared<tg::Conv2D>(filters, 3, conv_options(stride))),
        bn1_(std::make_shared<tg::BatchNormalization>()),
        conv2_(std::make_shared<tg::Conv2D>(filters, 3, conv_options(1))),
        bn2_(std::make_shared<tg::BatchNormalization>()) {
    add_sublayer(conv1_);
    add_sublayer(bn1_);
    add_sublayer(conv2_);
    add_sublayer(bn2_);
    if (stride != 1) {  // the input changes shape: project it
      project_ = std::make_shared<tg::Conv2D>(filters, 1, tg::ConvOptions{.strides = stride, .use_bias = false,
                                                                           .kernel_initializer = "he_normal"});
      project_bn_ = std::make_shared<tg::BatchNormalization>();
      add_sublayer(project_);
      add_sublayer(project_bn_);
    }
  }

  tg::Shape output_shape(const tg::Shape& in) const override { return conv2_->output_shape(conv1_->output_shape(in)); }

 protected:
  tg::Variable forward(const tg::Variable& x, bool training) override {
    tg::Variable y = tg::relu((*bn1_)((*conv1_)(x, training), training));
    y = (*bn2_)((*conv2_)(y, training), training);
    const tg::Variable shortcut = project_ ? (*project_bn_)((*project_)(x, training), training) : x;
    return tg::relu(y + shortcut);
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

ResNet20::ResNet20(int64_t classes)
    : Layer("ResNet20", ""),
      classes_(classes),
      stem_(std::make_shared<tg::Conv2D>(16, 3, tg::ConvOptions{.padding = "same", .use_bias = false, .kernel_initializer = "he_normal"})),
      stem_bn_(std::make_shared<tg::BatchNormalization>()),
      pool_(std::make_shared<tg::GlobalAveragePooling2D>()),
      head_(std::make_shared<tg::Dense>(classes)) {
  add_sublayer(stem_);
  add_sublayer(stem_bn_);
  for (int64_t filters : {16, 32, 64})
    for (int b = 0; b < 3; ++b) {
      blocks_.push_back(std::make_shared<BasicBlock>(filters, (b == 0 && filters != 16) ? 2 : 1));
      add_sublayer(blocks_.back());
    }
  add_sublayer(pool_);
  add_sublayer(head_);
}

tg::Shape ResNet20::output_shape(const tg::Shape& in) const {
  tg::Shape s = stem_->output_shape(in);
  for (const auto& b : blocks_) s = b->output_shape(s);
  return head_->output_shape(pool_->output_shape(s));
}

tg::Variable ResNet20::forward(const tg::Variable& x, bool training) {
  tg::Variable y = tg::relu((*stem_bn_)((*stem_)(x, training), training));
  for (const auto& b : blocks_) y = (*b)(y, training);
  return (*head_)((*pool_)(y, training), training);
}

}  // namespace examples
