// fit / evaluate / predict: Keras semantics of the training loop with Dense models.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "../error_matchers.h"
#include "tapegrad/autograd/tape.h"
#include "fit_fixtures.h"
#include "tapegrad/optim/adam.h"
#include "tapegrad/optim/sgd.h"
#include "tapegrad/train/early_stopping.h"
#include "tapegrad/train/fit.h"
#include "tapegrad/train/reduce_lr_on_plateau.h"

namespace tg = tapegrad;
using tg::Tensor;
using tg::Variable;
using tg::testing::Blobs;

namespace {

std::shared_ptr<tg::Sequential> classifier(std::shared_ptr<tg::testing::ModeProbe> probe = nullptr) {
  tg::manual_seed(5);
  auto model = std::make_shared<tg::Sequential>(std::initializer_list<tg::LayerRef>{tg::Dense(16, {.activation = "relu"})});
  if (probe) model->add(probe);
  model->add(tg::Dense(2));
  model->build({4});
  return model;
}

const tg::losses::SparseCategoricalCrossentropy kLogitsLoss({.from_logits = true});

}  // namespace

TEST(Fit, WithValidationSplitTheLossDecreasesAndValidationIsReported) {
  const Blobs data(200);
  auto model = classifier();
  tg::Adam opt(model->parameters(), {.learning_rate = 0.01f});
  auto acc = std::make_shared<tg::metrics::SparseCategoricalAccuracy>();
  const tg::History h = tg::fit(*model, opt, kLogitsLoss, data.x, data.y,
                                {.epochs = 8, .batch_size = 32, .validation_split = 0.2f, .metrics = {acc}, .verbose = 0});
  ASSERT_EQ(h.epochs, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
  const auto& loss = h["loss"];
  ASSERT_EQ(loss.size(), 8u);
  for (size_t e = 1; e < loss.size(); ++e) EXPECT_LT(loss[e], loss[e - 1]) << "epoch " << e;
  EXPECT_LT(loss.back(), 0.5 * loss.front());
  ASSERT_EQ(h["val_loss"].size(), 8u);
  EXPECT_LT(h["val_loss"].back(), h["val_loss"].front());
  EXPECT_GT(h["val_sparse_categorical_accuracy"].back(), 0.95);
  EXPECT_GT(h["sparse_categorical_accuracy"].back(), 0.95);
  EXPECT_EQ(opt.iterations(), 8 * 5) << "160 training samples in batches of 32";
  EXPECT_ERROR(h["val_accuracy"], {"History", "val_accuracy", "val_loss"});
}

TEST(Fit, ValidationSplitTakesTheLastSamplesAndRunsInInferenceMode) {
  const Blobs data(100);
  auto probe = std::make_shared<tg::testing::ModeProbe>();
  auto model = classifier(probe);
  tg::SGD opt(model->parameters(), {.learning_rate = 0.0f});
  tg::fit(*model, opt, kLogitsLoss, data.x, data.y,
          {.epochs = 1, .batch_size = 16, .validation_split = 0.3f, .shuffle = false, .verbose = 0});
  // 70 training samples: ceil(70 / 16) = 5 training calls, then ceil(30 / 16) = 2 validation calls.
  ASSERT_EQ(probe->calls->size(), 7u);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE((*probe->calls)[i]) << "training batch " << i;
  for (int i = 5; i < 7; ++i) EXPECT_FALSE((*probe->calls)[i]) << "validation batch " << i - 5;

  // The validation loss equals evaluate() on the last 30 samples (with lr 0 the weights never move).
  std::vector<int64_t> last(30);
  for (int i = 0; i < 30; ++i) last[i] = 70 + i;
  const tg::Logs direct = tg::evaluate(*model, kLogitsLoss, tg::take_rows(data.x, last), tg::take_rows(data.y, last));
  const tg::History h = tg::fit(*model, opt, kLogitsLoss, data.x, data.y,
                                {.epochs = 1, .batch_size = 16, .validation_split = 0.3f, .verbose = 0});
  EXPECT_NEAR(h["val_loss"][0], *direct.get("loss"), 1e-6);
}

TEST(Fit, ReportedLossIncludesLayerLossesAndWeightPenalties) {
  const Blobs data(8);
  tg::manual_seed(3);
  auto probe = std::make_shared<tg::testing::ModeProbe>(/*penalty=*/5.0f);
  tg::Sequential model({tg::Dense(2, {.kernel_regularizer = tg::L2(0.1f)}), probe});
  model.build({4});
  tg::SGD opt(model.parameters(), {.learning_rate = 0.0f});
  const Tensor w = model.parameters()[0]->var.value();
  const double l2 = 0.1 * tg::squared_norm(w);
  const Tensor y = Tensor::zeros({8, 2});
  double data_loss;
  {
    tg::NoGradGuard no_grad;
    data_loss = tg::losses::mean_squared_error(y, model(Variable(data.x))).item();
  }
  const tg::losses::MeanSquaredError mse;
  const tg::History h = tg::fit(model, opt, mse, data.x, y, {.epochs = 1, .batch_size = 8, .verbose = 0});
  EXPECT_NEAR(h["loss"][0], data_loss + 5.0 + l2, 1e-5);
  EXPECT_NEAR(*tg::evaluate(model, mse, data.x, y).get("loss"), data_loss + 5.0 + l2, 1e-5);
}

TEST(Fit, ClassWeightsWeighTheLoss) {
  const Blobs data(10);
  auto model = classifier();
  tg::SGD opt(model->parameters(), {.learning_rate = 0.0f});
  Tensor logits;
  {
    tg::NoGradGuard no_grad;
    logits = (*model)(Variable(data.x)).value();
  }
  // Keras: sum(w * l) / batch size, with w from the class of each sample.
  Tensor w = Tensor::empty({10});
  for (int i = 0; i < 10; ++i) w.data()[i] = data.y.data()[i] == 1.0f ? 0.0f : 2.0f;
  const double want =
      tg::losses::sparse_categorical_crossentropy(data.y, Variable(logits), {.from_logits = true}, {.sample_weight = w}).item();
  const tg::History h = tg::fit(*model, opt, kLogitsLoss, data.x, data.y,
                                {.epochs = 1, .batch_size = 10, .class_weight = {{0, 2.0f}, {1, 0.0f}}, .verbose = 0});
  EXPECT_NEAR(h["loss"][0], want, 1e-6);
}

TEST(Fit, EarlyStoppingAndReduceLROnPlateauFireOnAPlateau) {
  // A learning rate of 1e-6: the validation loss moves by far less than min_delta 1e-4 after the
  // first epoch (the first always improves on +inf).
  const Blobs data(64);
  auto model = classifier();
  tg::SGD opt(model->parameters(), {.learning_rate = 1e-6f});
  auto stop = std::make_shared<tg::EarlyStopping>(tg::EarlyStoppingOptions{.min_delta = 1e-4, .patience = 3});
  auto reduce = std::make_shared<tg::ReduceLROnPlateau>(tg::ReduceLROnPlateauOptions{.factor = 0.5, .patience = 1});
  const tg::History h = tg::fit(*model, opt, kLogitsLoss, data.x, data.y,
                                {.epochs = 20, .validation_split = 0.25f, .callbacks = {reduce, stop}, .verbose = 0});
  ASSERT_TRUE(stop->stopped_epoch().has_value());
  EXPECT_EQ(*stop->stopped_epoch(), 3);
  EXPECT_EQ(h.epochs.size(), 4u);
  EXPECT_EQ(reduce->reductions(), (std::vector<int>{1, 2, 3}));
  // "lr" is logged at each epoch end, before that epoch's reduction.
  ASSERT_EQ(h["lr"].size(), 4u);
  EXPECT_NEAR(h["lr"][0], 1e-6, 1e-12);
  EXPECT_NEAR(h["lr"][1], 1e-6, 1e-12);
  EXPECT_NEAR(h["lr"][2], 5e-7, 1e-12);
  EXPECT_NEAR(h["lr"][3], 2.5e-7, 1e-12);
  EXPECT_NEAR(opt.learning_rate(), 1.25e-7, 1e-12);
}

TEST(Fit, EarlyStoppingAndReduceLROnPlateauStayQuietWhileImproving) {
  const Blobs data(200);
  auto model = classifier();
  tg::Adam opt(model->parameters(), {.learning_rate = 0.01f});
  auto stop = std::make_shared<tg::EarlyStopping>(tg::EarlyStoppingOptions{.monitor = "loss", .patience = 1});
  auto reduce = std::make_shared<tg::ReduceLROnPlateau>(tg::ReduceLROnPlateauOptions{.monitor = "loss", .patience = 1});
  const tg::History h = tg::fit(*model, opt, kLogitsLoss, data.x, data.y,
                                {.epochs = 6, .callbacks = {reduce, stop}, .verbose = 0});
  EXPECT_FALSE(stop->stopped_epoch().has_value());
  EXPECT_EQ(h.epochs.size(), 6u);
  EXPECT_TRUE(reduce->reductions().empty());
  EXPECT_FLOAT_EQ(opt.learning_rate(), 0.01f);
}

TEST(Fit, PredictAndEvaluateRunInInferenceModeBatchByBatch) {
  const Blobs data(50);
  auto probe = std::make_shared<tg::testing::ModeProbe>();
  auto model = classifier(probe);
  const size_t nodes_before = tg::live_graph_nodes();
  const Tensor out = tg::predict(*model, data.x, 16);
  EXPECT_EQ(tg::live_graph_nodes(), nodes_before) << "inference records nothing";
  EXPECT_EQ(out.shape(), (tg::Shape{50, 2}));
  EXPECT_EQ(*probe->calls, (std::vector<bool>{false, false, false, false}));
  Tensor whole;
  {
    tg::NoGradGuard no_grad;
    whole = (*model)(Variable(data.x)).value();
  }
  EXPECT_TRUE(tg::allclose(out, whole, 1e-5f, 1e-6f));
  auto acc = std::make_shared<tg::metrics::SparseCategoricalAccuracy>();
  const tg::Logs logs = tg::evaluate(*model, kLogitsLoss, data.x, data.y, {.batch_size = 7, .metrics = {acc}});
  const double want = tg::losses::sparse_categorical_crossentropy(data.y, Variable(whole), {.from_logits = true}).item();
  EXPECT_NEAR(*logs.get("loss"), want, 1e-5);
  EXPECT_NEAR(*logs.get("sparse_categorical_accuracy"), tg::metrics::sparse_categorical_accuracy(data.y, whole), 1e-12);
}

TEST(Fit, CallbacksSeeKerasOrder) {
  const Blobs data(10);
  auto model = classifier();
  tg::SGD opt(model->parameters());
  std::vector<std::string> events;
  auto spy = std::make_shared<tg::LambdaCallback>();
  spy->train_begin = [&](tg::Logs&) { events.push_back("train_begin"); };
  spy->epoch_begin = [&](int e, tg::Logs&) { events.push_back("epoch_begin " + std::to_string(e)); };
  spy->batch_begin = [&](int64_t b, tg::Logs&) { events.push_back("batch_begin " + std::to_string(b)); };
  spy->batch_end = [&](int64_t b, tg::Logs& l) {
    events.push_back("batch_end " + std::to_string(b) + (l.contains("loss") ? " loss" : ""));
  };
  spy->epoch_end = [&](int e, tg::Logs& l) {
    events.push_back("epoch_end " + std::to_string(e) + (l.contains("val_loss") ? " val_loss" : ""));
  };
  spy->train_end = [&](tg::Logs&) { events.push_back("train_end"); };
  tg::fit(*model, opt, kLogitsLoss, data.x, data.y,
          {.epochs = 2, .batch_size = 6, .validation_x = data.x, .validation_y = data.y, .callbacks = {spy}, .verbose = 0});
  const std::vector<std::string> want = {"train_begin", "epoch_begin 0", "batch_begin 0", "batch_end 0 loss",
                                         "batch_begin 1", "batch_end 1 loss", "epoch_end 0 val_loss", "epoch_begin 1",
                                         "batch_begin 0", "batch_end 0 loss", "batch_begin 1", "batch_end 1 loss",
                                         "epoch_end 1 val_loss", "train_end"};
  EXPECT_EQ(events, want);
}

TEST(Fit, ShuffleIsSeededAndOptional) {
  const Blobs data(40);
  auto run = [&](bool shuffle, uint64_t seed) {
    auto model = classifier();
    tg::SGD opt(model->parameters(), {.learning_rate = 0.1f});
    tg::fit(*model, opt, kLogitsLoss, data.x, data.y, {.epochs = 2, .batch_size = 8, .shuffle = shuffle, .seed = seed, .verbose = 0});
    return model->parameters()[0]->var.value().clone();
  };
  EXPECT_TRUE(tg::allclose(run(true, 1), run(true, 1), 0.0f, 0.0f));
  EXPECT_FALSE(tg::allclose(run(true, 1), run(true, 2), 0.0f, 0.0f));
  EXPECT_FALSE(tg::allclose(run(true, 1), run(false, 1), 0.0f, 0.0f));
}

TEST(Fit, BadArgumentsAreClearErrors) {
  const Blobs data(10);
  auto model = classifier();
  tg::SGD opt(model->parameters());
  EXPECT_ERROR(tg::fit(*model, opt, kLogitsLoss, data.x, Tensor::zeros({9}), {.verbose = 0}),
               {"fit", "(10, 4)", "(9,)", "10 and 9 samples"});
  EXPECT_ERROR(tg::fit(*model, opt, kLogitsLoss, data.x, data.y, {.validation_split = 1.5f, .verbose = 0}),
               {"fit", "validation_split", "[0, 1)"});
  EXPECT_ERROR(tg::fit(*model, opt, kLogitsLoss, data.x, data.y,
                       {.validation_x = data.x, .validation_y = data.y, .validation_split = 0.5f, .verbose = 0}),
               {"fit", "not both"});
  EXPECT_ERROR(tg::fit(*model, opt, kLogitsLoss, data.x, data.y, {.batch_size = 0, .verbose = 0}), {"fit", "batch_size", "0"});
  EXPECT_ERROR(tg::fit(*model, opt, kLogitsLoss, data.x, data.y, {.validation_split = 0.95, .verbose = 0}),
               {"validation_split", "10 samples", "empty"});
  EXPECT_ERROR(tg::predict(*model, data.x, 0), {"predict", "batch_size"});
}
