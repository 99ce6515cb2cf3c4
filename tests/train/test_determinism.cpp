// Results do not depend on the number of threads: 50 training steps of a small CNN (conv, batch
// norm, pooling, dropout, dense; shuffled, augmented batches) give bit-identical parameters with
// 1 and with 2 threads.
#include <gtest/gtest.h>

#include "tapegrad/core/parallel.h"
#include "tapegrad/data/data_loader.h"
#include "tapegrad/layers/activation_layers.h"
#include "tapegrad/layers/batch_normalization.h"
#include "tapegrad/layers/conv.h"
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

std::vector<std::vector<float>> train_50_steps(int threads) {
  tg::set_num_threads(threads);
  tg::manual_seed(7);
  tg::Rng rng(3);
  tg::Tensor x = tg::Tensor::randn({96, 12, 12, 3}, rng), y = tg::Tensor::empty({96});
  for (int64_t i = 0; i < 96; ++i) y.data()[i] = static_cast<float>(i % 4);
  td::DataLoader loader(std::make_shared<td::TensorDataset>(x, y),
                        {.batch_size = 32, .shuffle = true, .seed = 5, .transform = td::random_crop_flip(1)});
  tg::Sequential model({tg::Conv2D(8, 3, {.padding = "same"}), tg::BatchNormalization(), tg::ReLU(), tg::MaxPooling2D(2),
                        tg::Conv2D(16, 3, {.activation = "relu"}), tg::Dropout(0.2f), tg::Flatten(), tg::Dense(4)});
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
  const auto one = train_50_steps(1);
  const auto two = train_50_steps(2);
  tg::set_num_threads(2);
  ASSERT_EQ(one.size(), two.size());
  for (size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(one[i] == two[i]) << "parameter " << i << " differs";
}
