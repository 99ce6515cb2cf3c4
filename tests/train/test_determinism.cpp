// Results do not depend on the number of threads: 50 training steps give bit-identical parameters
// with 1 and with 2 threads, for a small CNN (conv, batch norm, pooling, dropout, dense; shuffled,
// augmented batches) and for a MobileNet/ResNet-style one that takes every convolution path
// (Winograd forward and kernel gradient over several sample groups, depthwise at stride 2, 1x1
// direct, strided im2col) with batch norm after each.
#include <gtest/gtest.h>

#include "tapegrad/core/parallel.h"
#include "tapegrad/data/data_loader.h"
#include "tapegrad/layers/activation_layers.h"
#include "tapegrad/layers/batch_normalization.h"
#include "tapegrad/layers/conv.h"
#include "tapegrad/layers/depthwise_conv.h"
#include "tapegrad/layers/dense.h"
#include "tapegrad/layers/dropout.h"
#include "tapegrad/layers/pooling.h"
#include "tapegrad/layers/reshaping.h"
#include "tapegrad/layers/sequential.h"
#include "tapegrad/optim/adam.h"
#include "tapegrad/train/losses.h"

namespace tg = tapegrad;
namespace td = tapegrad::data;

namespace {

std::shared_ptr<tg::Sequential> small_cnn() {
  return std::make_shared<tg::Sequential>(std::vector<tg::LayerRef>{
      tg::Conv2D(8, 3, {.padding = "same"}), tg::BatchNormalization(), tg::ReLU(), tg::MaxPooling2D(2),
      tg::Conv2D(16, 3, {.activation = "relu"}), tg::Dropout(0.2f), tg::Flatten(), tg::Dense(4)});
}

std::shared_ptr<tg::Sequential> every_conv_path() {
  return std::make_shared<tg::Sequential>(std::vector<tg::LayerRef>{
      tg::Conv2D(16, 3, {.padding = "same", .use_bias = false}), tg::BatchNormalization(), tg::ReLU(),
      tg::Conv2D(16, 3, {.padding = "same", .use_bias = false}), tg::BatchNormalization(), tg::ReLU(),
      tg::DepthwiseConv2D(3, {.strides = 2, .padding = "same", .use_bias = false}), tg::BatchNormalization(), tg::ReLU(),
      tg::Conv2D(32, 1, {.use_bias = false}), tg::BatchNormalization(), tg::ReLU(),
      tg::Conv2D(32, 3, {.strides = 2, .padding = "same"}), tg::BatchNormalization(), tg::ReLU(),
      tg::GlobalAveragePooling2D(), tg::Dense(4)});
}

std::vector<std::vector<float>> train_50_steps(int threads, std::shared_ptr<tg::Sequential> (*make_model)()) {
  tg::set_num_threads(threads);
  tg::manual_seed(7);
  tg::Rng rng(3);
  tg::Tensor x = tg::Tensor::randn({96, 12, 12, 3}, rng), y = tg::Tensor::empty({96});
  for (int64_t i = 0; i < 96; ++i) y.data()[i] = static_cast<float>(i % 4);
  td::DataLoader loader(std::make_shared<td::TensorDataset>(x, y),
                        {.batch_size = 32, .shuffle = true, .seed = 5, .transform = td::random_crop_flip(1)});
  const auto model_ptr = make_model();
  tg::Sequential& model = *model_ptr;
  model.build({12, 12, 3});
  tg::Adam opt(model.parameters(), {.learning_rate = 1e-3f});
  for (int step = 0; step < 50; ++step) {
    auto batch = loader.next();
    if (!batch) batch = loader.next();
    auto loss = tg::losses::sparse_categorical_crossentropy(batch->y, model(tg::Variable(batch->x), true), {.from_logits = true});
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  std::vector<std::vector<float>> params;
  for (const auto& p : model.parameters()) params.push_back(p->var.value().to_vector());
  return params;
}

}  // namespace

TEST(Determinism, FiftyTrainingStepsAreBitIdenticalWithOneAndTwoThreads) {
  const auto one = train_50_steps(1, small_cnn);
  const auto two = train_50_steps(2, small_cnn);
  tg::set_num_threads(2);
  ASSERT_EQ(one.size(), two.size());
  for (size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(one[i] == two[i]) << "parameter " << i << " differs";
}

TEST(Determinism, EveryConvolutionPathWithBatchNormIsBitIdenticalWithOneAndTwoThreads) {
  const auto one = train_50_steps(1, every_conv_path);
  const auto two = train_50_steps(2, every_conv_path);
  tg::set_num_threads(2);
  ASSERT_EQ(one.size(), two.size());
  for (size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(one[i] == two[i]) << "parameter " << i << " differs";
}
