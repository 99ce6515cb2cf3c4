// fit() on a small CNN (Conv2D -> MaxPooling2D -> Flatten -> Dense) with a validation split: the
// loss decreases, and EarlyStopping / ReduceLROnPlateau fire on a plateau.
#include <gtest/gtest.h>

#include "tapegrad/core/rng.h"
#include "tapegrad/layers/conv.h"
#include "tapegrad/layers/dense.h"
#include "tapegrad/layers/pooling.h"
#include "tapegrad/layers/reshaping.h"
#include "tapegrad/layers/sequential.h"
#include "tapegrad/optim/adam.h"
#include "tapegrad/optim/sgd.h"
#include "tapegrad/train/early_stopping.h"
#include "tapegrad/train/fit.h"
#include "tapegrad/train/reduce_lr_on_plateau.h"

namespace tg = tapegrad;
using tg::Tensor;

namespace {

// 8x8 one-channel images: class 0 has a bright vertical bar, class 1 a horizontal one, plus noise.
struct Bars {
  Tensor x, y;
  explicit Bars(int64_t n) {
    tg::Rng rng(4);
    x = Tensor::randn({n, 8, 8, 1}, rng, 0.0f, 0.3f);
    y = Tensor::empty({n});
    for (int64_t i = 0; i < n; ++i) {
      const int64_t c = i % 2, at = 1 + static_cast<int64_t>(rng.uniform_int(6));
      y.data()[i] = static_cast<float>(c);
      for (int64_t k = 0; k < 8; ++k) x.data()[i * 64 + (c == 0 ? k * 8 + at : at * 8 + k)] += 1.0f;
    }
  }
};

std::shared_ptr<tg::Sequential> small_cnn() {
  tg::manual_seed(7);
  auto model = std::make_shared<tg::Sequential>(std::initializer_list<tg::LayerRef>{
      tg::Conv2D(4, 3, {.activation = "relu"}), tg::MaxPooling2D(2), tg::Flatten(), tg::Dense(2)});
  model->build({8, 8, 1});
  return model;
}

const tg::losses::SparseCategoricalCrossentropy kLoss({.from_logits = true});

}  // namespace

TEST(FitCnn, LossDecreasesWithAValidationSplit) {
  const Bars data(96);
  auto model = small_cnn();
  tg::Adam opt(model->parameters(), {.learning_rate = 0.02f});
  auto acc = std::make_shared<tg::metrics::SparseCategoricalAccuracy>();
  const tg::History h = tg::fit(*model, opt, kLoss, data.x, data.y,
                                {.epochs = 6, .batch_size = 16, .validation_split = 0.25, .metrics = {acc}, .verbose = 0});
  const auto& loss = h["loss"];
  ASSERT_EQ(loss.size(), 6u);
  for (size_t e = 1; e < loss.size(); ++e) EXPECT_LT(loss[e], loss[e - 1]) << "epoch " << e;
  EXPECT_LT(h["val_loss"].back(), h["val_loss"].front());
  EXPECT_GT(h["val_sparse_categorical_accuracy"].back(), 0.9);
}

TEST(FitCnn, EarlyStoppingAndReduceLROnPlateauFireOnAPlateau) {
  const Bars data(48);
  auto model = small_cnn();
  tg::SGD opt(model->parameters(), {.learning_rate = 1e-7f});  // the validation loss barely moves
  auto stop = std::make_shared<tg::EarlyStopping>(tg::EarlyStoppingOptions{.min_delta = 1e-4, .patience = 2});
  auto reduce = std::make_shared<tg::ReduceLROnPlateau>(tg::ReduceLROnPlateauOptions{.factor = 0.5, .patience = 1});
  const tg::History h = tg::fit(*model, opt, kLoss, data.x, data.y,
                                {.epochs = 10, .batch_size = 16, .validation_split = 0.25, .callbacks = {reduce, stop}, .verbose = 0});
  EXPECT_EQ(stop->stopped_epoch(), 2);
  EXPECT_EQ(h.epochs.size(), 3u);
  EXPECT_EQ(reduce->reductions(), (std::vector<int>{1, 2}));
  EXPECT_NEAR(opt.learning_rate(), 2.5e-8, 1e-14);
}
