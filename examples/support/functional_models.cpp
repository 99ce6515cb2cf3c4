#include "support/functional_models.h"

#include <string>

namespace tg = tapegrad;

namespace examples {

std::shared_ptr<tg::Model> toy_resnet(const tg::Shape& input, int64_t classes) {
  auto inputs = tg::Input(input, {.name = "img"});
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
  return std::make_shared<tg::Model>(std::vector{inputs}, std::vector{tg::Dense(classes)(x)}, "toy_resnet");
}

namespace {
tg::ConvOptions resnet_conv(int64_t stride, const std::string& padding = "same") {
  return {.strides = stride, .padding = padding, .use_bias = false, .kernel_initializer = "he_normal"};
}

// conv 3x3 - BN - relu - conv 3x3 - BN, plus the (projected) input, then relu.
tg::SymbolicTensor basic_block(const tg::SymbolicTensor& x, int64_t filters, int64_t stride) {
  auto y = tg::Conv2D(filters, 3, resnet_conv(stride))(x);
  y = tg::ReLU()(tg::BatchNormalization()(y));
  y = tg::BatchNormalization()(tg::Conv2D(filters, 3, resnet_conv(1))(y));
  const auto shortcut = stride == 1 ? x : tg::BatchNormalization()(tg::Conv2D(filters, 1, resnet_conv(stride, "valid"))(x));
  return tg::ReLU()(tg::Add()({y, shortcut}));
}

tg::SymbolicTensor conv_relu(const tg::SymbolicTensor& x, int64_t filters, int64_t size) {
  return tg::Conv2D(filters, size, {.padding = "same", .activation = "relu"})(x);
}

// Four branches over one input, concatenated on the channels.
tg::SymbolicTensor inception_block(const tg::SymbolicTensor& x, int64_t filters) {
  const auto one = conv_relu(x, filters, 1);
  const auto three = conv_relu(conv_relu(x, filters / 2, 1), filters, 3);
  const auto five = conv_relu(conv_relu(x, filters / 4, 1), filters / 2, 5);
  const auto pool = conv_relu(tg::MaxPooling2D(3, {.strides = 1, .padding = "same"})(x), filters / 2, 1);
  return tg::Concatenate()({one, three, five, pool});
}
}  // namespace

std::shared_ptr<tg::Model> resnet20_functional(const tg::Shape& input, int64_t classes) {
  auto in = tg::Input(input, {.name = "image"});
  auto x = tg::ReLU()(tg::BatchNormalization()(tg::Conv2D(16, 3, resnet_conv(1))(in)));
  for (int64_t filters : {16, 32, 64})
    for (int b = 1; b <= 3; ++b) x = basic_block(x, filters, (b == 1 && filters != 16) ? 2 : 1);
  auto out = tg::Dense(classes)(tg::GlobalAveragePooling2D()(x));
  return std::make_shared<tg::Model>(std::vector{in}, std::vector{out}, "resnet20");
}

std::shared_ptr<tg::Model> inception_net(const tg::Shape& input, int64_t classes) {
  auto in = tg::Input(input, {.name = "image"});
  auto x = tg::MaxPooling2D(2)(conv_relu(in, 32, 3));
  x = tg::MaxPooling2D(2)(inception_block(x, 32));
  x = inception_block(x, 64);
  auto out = tg::Dense(classes)(tg::GlobalAveragePooling2D()(x));
  return std::make_shared<tg::Model>(std::vector{in}, std::vector{out}, "inception");
}

std::shared_ptr<tg::Model> siamese_net(const tg::Shape& input) {
  auto tower = std::make_shared<tg::Sequential>(
      std::vector<tg::LayerRef>{tg::Conv2D(32, 3, {.activation = "relu"}), tg::MaxPooling2D(2),
                                tg::Conv2D(64, 3, {.activation = "relu"}), tg::MaxPooling2D(2), tg::Flatten(),
                                tg::Dense(64)},
      tg::LayerOptions{.name = "tower"});
  auto left = tg::Input(input, {.name = "left"}), right = tg::Input(input, {.name = "right"});
  auto diff = tg::Subtract()({(*tower)(left), (*tower)(right)});
  auto same = tg::Dense(1, {.name = "same"})(tg::Multiply()({diff, diff}));
  return std::make_shared<tg::Model>(std::vector{left, right}, std::vector{same}, "siamese");
}

}  // namespace examples
