// The Keras callbacks driven by fit(): EarlyStopping's rules and restore_best_weights,
// ReduceLROnPlateau's patience and cooldown, LearningRateScheduler, TerminateOnNaN, CSVLogger,
// ModelCheckpoint (save_best_only) and its weights file.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>

#include "../error_matchers.h"
#include "fit_fixtures.h"
#include "tapegrad/optim/adam.h"
#include "tapegrad/optim/sgd.h"
#include "tapegrad/train/early_stopping.h"
#include "tapegrad/train/fit.h"
#include "tapegrad/train/model_checkpoint.h"
#include "tapegrad/train/reduce_lr_on_plateau.h"
#include "tapegrad/train/simple_callbacks.h"
#include "tapegrad/train/checkpoint.h"

namespace tg = tapegrad;
using tg::Tensor;
using tg::Variable;
using tg::testing::Blobs;
using tg::testing::inject;

namespace {

struct Trainer {
  Blobs data{32};
  std::shared_ptr<tg::Sequential> model;
  std::unique_ptr<tg::SGD> opt;
  tg::losses::SparseCategoricalCrossentropy loss{{.from_logits = true}};
  explicit Trainer(float lr = 0.1f) {
    tg::manual_seed(9);
    model = std::make_shared<tg::Sequential>(std::initializer_list<tg::LayerRef>{tg::Dense(2, {.name = "out"})},
                                             tg::LayerOptions{.name = "trainer"});
    model->build({4});
    opt = std::make_unique<tg::SGD>(model->parameters(), tg::SGDOptions{.learning_rate = lr});
  }
  tg::History fit(int epochs, std::vector<tg::CallbackPtr> callbacks) {
    return tg::fit(*model, *opt, loss, data.x, data.y, {.epochs = epochs, .batch_size = 8, .callbacks = callbacks, .verbose = 0});
  }
};

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("tapegrad_" + std::to_string(::getpid()) + "_" + name)).string();
}

}  // namespace

TEST(EarlyStopping, RestoresTheBestEpochsWeights) {
  Trainer s;
  std::vector<std::vector<Tensor>> weights_at_epoch;
  auto recorder = std::make_shared<tg::LambdaCallback>();
  recorder->epoch_end = [&](int, tg::Logs&) { weights_at_epoch.push_back(tg::get_weights(*s.model)); };
  auto stop = std::make_shared<tg::EarlyStopping>(
      tg::EarlyStoppingOptions{.monitor = "score", .patience = 2, .restore_best_weights = true});
  // Best at epoch 1; epochs 2 and 3 do not improve: stop at 3 and restore epoch 1.
  const tg::History h = s.fit(10, {inject("score", {1.0, 0.5, 0.8, 0.9, 0.1, 0.1}), recorder, stop});
  ASSERT_TRUE(stop->stopped_epoch().has_value());
  EXPECT_EQ(*stop->stopped_epoch(), 3);
  EXPECT_EQ(stop->best_epoch(), 1);
  EXPECT_EQ(h["score"], (std::vector<double>{1.0, 0.5, 0.8, 0.9}));
  const auto now = tg::get_weights(*s.model);
  for (size_t i = 0; i < now.size(); ++i) {
    EXPECT_TRUE(tg::allclose(now[i], weights_at_epoch[1][i], 0.0f, 0.0f)) << "weight " << i;
    EXPECT_FALSE(tg::allclose(now[i], weights_at_epoch[3][i], 0.0f, 0.0f)) << "weight " << i;
  }
}

TEST(EarlyStopping, ModeMinDeltaAndBaseline) {
  {  // "accuracy" is maximised in auto mode; +0.005 is not an improvement with min_delta 0.01.
    Trainer s;
    auto stop = std::make_shared<tg::EarlyStopping>(tg::EarlyStoppingOptions{.monitor = "val_accuracy", .min_delta = 0.01, .patience = 1});
    s.fit(5, {inject("val_accuracy", {0.5, 0.505, 0.9, 0.9, 0.9}), stop});
    EXPECT_EQ(stop->stopped_epoch(), 1);
  }
  {  // Improvements that do not beat the baseline do not reset the patience: stops one epoch sooner.
    const std::vector<double> m = {1.0, 0.9, 0.95, 0.97, 0.98};
    Trainer with, without;
    auto stop = std::make_shared<tg::EarlyStopping>(tg::EarlyStoppingOptions{.monitor = "m", .patience = 2, .baseline = 0.1});
    auto plain = std::make_shared<tg::EarlyStopping>(tg::EarlyStoppingOptions{.monitor = "m", .patience = 2});
    with.fit(5, {inject("m", m), stop});
    without.fit(5, {inject("m", m), plain});
    EXPECT_EQ(stop->stopped_epoch(), 2);
    EXPECT_EQ(plain->stopped_epoch(), 3);
  }
  {  // Never fires while improving.
    Trainer s;
    auto stop = std::make_shared<tg::EarlyStopping>(tg::EarlyStoppingOptions{.monitor = "m", .patience = 0});
    const auto h = s.fit(4, {inject("m", {4, 3, 2, 1}), stop});
    EXPECT_FALSE(stop->stopped_epoch().has_value());
    EXPECT_EQ(h.epochs.size(), 4u);
  }
}

TEST(ReduceLROnPlateau, PatienceCooldownAndMinLr) {
  Trainer s(0.8f);
  auto reduce = std::make_shared<tg::ReduceLROnPlateau>(
      tg::ReduceLROnPlateauOptions{.monitor = "m", .factor = 0.5, .patience = 2, .cooldown = 1, .min_lr = 0.15});
  const auto h = s.fit(9, {inject("m", {1, 1, 1, 1, 1, 1, 1, 1, 1}), reduce});
  // Keras' counting: reduced at epoch 2 (patience 2); epoch 3 ends the cooldown and already counts
  // (wait 1), so 4 reduces again, then 6; 0.8 -> 0.4 -> 0.2 -> max(0.1, 0.15) = 0.15, and at
  // epoch 8 the rate is at min_lr: no more reductions.
  EXPECT_EQ(reduce->reductions(), (std::vector<int>{2, 4, 6}));
  EXPECT_FLOAT_EQ(s.opt->learning_rate(), 0.15f);
  EXPECT_NEAR(h["lr"][3], 0.4, 1e-7);
}

TEST(ReduceLROnPlateau, RefusesAScheduledLearningRate) {
  Trainer s;
  s.opt->set_learning_rate(tg::ExponentialDecay(0.1f, 10, 0.5f));
  auto reduce = std::make_shared<tg::ReduceLROnPlateau>();
  EXPECT_ERROR(s.fit(1, {reduce}), {"ReduceLROnPlateau", "ExponentialDecay", "constant"});
}

TEST(LearningRateScheduler, SetsTheRateAtEachEpochStart) {
  Trainer s;
  std::vector<float> seen;
  auto sched = std::make_shared<tg::LearningRateScheduler>([&](int epoch, float lr) {
    seen.push_back(lr);
    return 0.1f / static_cast<float>(epoch + 1);
  });
  const auto h = s.fit(3, {sched});
  EXPECT_NEAR(h["lr"][0], 0.1, 1e-7);
  EXPECT_NEAR(h["lr"][1], 0.05, 1e-7);
  EXPECT_NEAR(h["lr"][2], 0.1 / 3, 1e-7);
  EXPECT_NEAR(seen[1], 0.1f, 1e-7) << "the schedule receives the current rate";
}

TEST(TerminateOnNaN, StopsRightAfterTheFirstBadBatch) {
  Trainer s;
  s.data.x.data()[8 * 4] = std::numeric_limits<float>::quiet_NaN();  // sample 8: the second batch without shuffling
  auto nan = std::make_shared<tg::TerminateOnNaN>();
  int64_t batches = 0;
  auto count = std::make_shared<tg::LambdaCallback>();
  count->batch_end = [&](int64_t, tg::Logs&) { ++batches; };
  const auto h = tg::fit(*s.model, *s.opt, s.loss, s.data.x, s.data.y,
                         {.epochs = 5, .batch_size = 8, .shuffle = false, .callbacks = {count, nan}, .verbose = 0});
  EXPECT_TRUE(nan->terminated());
  EXPECT_EQ(batches, 2);
  EXPECT_EQ(h.epochs.size(), 1u);
  EXPECT_TRUE(std::isnan(h["loss"][0]));
}

TEST(CSVLogger, WritesAHeaderAndOneRowPerEpoch) {
  const std::string path = temp_path("log.csv");
  {
    Trainer s;
    s.fit(2, {inject("acc", {0.25, 0.5}), std::make_shared<tg::CSVLogger>(path)});
    Trainer again;
    again.fit(1, {inject("acc", {0.75}), std::make_shared<tg::CSVLogger>(path, ',', /*append=*/true)});
  }
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "epoch,acc,loss");
  EXPECT_EQ(lines[1].substr(0, 7), "0,0.25,");
  EXPECT_EQ(lines[2].substr(0, 6), "1,0.5,");
  EXPECT_EQ(lines[3].substr(0, 7), "0,0.75,");
  std::remove(path.c_str());
  EXPECT_ERROR(Trainer().fit(1, {std::make_shared<tg::CSVLogger>("/nonexistent_dir/x.csv")}), {"CSVLogger", "/nonexistent_dir/x.csv"});
}

TEST(ModelCheckpoint, SaveBestOnlyWritesOnImprovementAndTheFileRestores) {
  const std::string pattern = temp_path("ckpt_{epoch}.weights");
  Trainer s;
  std::vector<std::vector<Tensor>> weights_at_epoch;
  auto recorder = std::make_shared<tg::LambdaCallback>();
  recorder->epoch_end = [&](int, tg::Logs&) { weights_at_epoch.push_back(tg::get_weights(*s.model)); };
  auto ckpt = std::make_shared<tg::ModelCheckpoint>(
      pattern, tg::ModelCheckpointOptions{.monitor = "m", .save_best_only = true, .save_weights_only = true});
  s.fit(4, {inject("m", {3, 1, 2, 0.5}), recorder, ckpt});
  EXPECT_EQ(ckpt->saved_epochs(), (std::vector<int>{0, 1, 3}));
  auto file = [&](int epoch) { return temp_path("ckpt_" + std::to_string(epoch) + ".weights"); };
  EXPECT_TRUE(std::filesystem::exists(file(2)));
  EXPECT_FALSE(std::filesystem::exists(file(3))) << "epoch index 2 did not improve";
  EXPECT_TRUE(tg::load_weights(file(2), *s.model).empty());
  const auto restored = tg::get_weights(*s.model);
  for (size_t i = 0; i < restored.size(); ++i) EXPECT_TRUE(tg::allclose(restored[i], weights_at_epoch[1][i], 0.0f, 0.0f));
  for (int e : {1, 2, 4}) std::remove(file(e).c_str());
}

TEST(ModelCheckpoint, KeepsTheLastNAndTheBestFullCheckpoints) {
  const std::string pattern = temp_path("keep_{epoch}.ckpt");
  Trainer s;
  // The monitor is best at epoch 2 (index 1), then worse: the best file survives the rotation.
  auto ckpt = std::make_shared<tg::ModelCheckpoint>(pattern, tg::ModelCheckpointOptions{.monitor = "m", .keep_last = 2});
  s.fit(5, {inject("m", {3, 0.5, 2, 2.5, 4}), ckpt});
  auto file = [&](int epoch) { return temp_path("keep_" + std::to_string(epoch) + ".ckpt"); };
  EXPECT_EQ(ckpt->saved_epochs(), (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(ckpt->best_file(), file(2));
  EXPECT_EQ(ckpt->kept_files(), (std::vector<std::string>{file(2), file(4), file(5)}));
  for (int e : {1, 3}) EXPECT_FALSE(std::filesystem::exists(file(e))) << "epoch " << e << " rotated out";
  for (int e : {2, 4, 5}) EXPECT_TRUE(std::filesystem::exists(file(e)));
  // A full checkpoint: the optimizer state and the epoch come back too.
  Trainer fresh;
  tg::TrainingProgress progress;
  tg::load_checkpoint(file(5), {fresh.model.get(), fresh.opt.get(), nullptr, &progress, {}});
  EXPECT_EQ(progress.epoch, 5);
  EXPECT_EQ(fresh.opt->iterations(), s.opt->iterations());
  const auto a = tg::get_weights(*s.model), b = tg::get_weights(*fresh.model);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(tg::allclose(a[i], b[i], 0.0f, 0.0f));
  EXPECT_ERROR(tg::ModelCheckpoint("x", {.keep_last = -1}), {"ModelCheckpoint", "keep_last"});
  for (int e : {2, 4, 5}) std::remove(file(e).c_str());
}
