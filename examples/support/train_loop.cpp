#include "support/train_loop.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>

namespace tg = tapegrad;
namespace td = tapegrad::data;

namespace examples {

std::unique_ptr<tg::Optimizer> make_optimizer(const Args& args, const std::string& default_name,
                                              const tg::LearningRate& default_lr, const std::vector<tg::ParameterPtr>& parameters) {
  const std::string name = args.optimizer.empty() ? default_name : args.optimizer;
  const tg::LearningRate lr = args.learning_rate > 0.0f ? tg::LearningRate(args.learning_rate) : default_lr;
  if (name == "adam") return std::make_unique<tg::Adam>(parameters, tg::AdamOptions{.learning_rate = lr});
  if (name == "rmsprop") return std::make_unique<tg::RMSprop>(parameters, tg::RMSpropOptions{.learning_rate = lr});
  if (name == "sgd") return std::make_unique<tg::SGD>(parameters, tg::SGDOptions{.learning_rate = lr, .momentum = 0.9f});
  throw tg::Error("--optimizer: unknown optimizer '" + name + "'; known: adam, rmsprop, sgd");
}

std::unique_ptr<tg::distributed::Session> apply_runtime_args(int& argc, char**& argv, const Args& args) {
  std::unique_ptr<tg::distributed::Session> session;
  if (args.distributed) {
    if (!tg::distributed::built_with_mpi())
      throw tg::Error("--distributed: this build has no MPI (configure with TAPEGRAD_MPI=ON; Debian: libopenmpi-dev)");
    session = std::make_unique<tg::distributed::Session>(argc, argv);
    // Rank 0 speaks for the job: the other ranks' std::cout goes nowhere (errors still print).
    if (!tg::distributed::is_root()) std::cout.rdbuf(nullptr);
    std::cout << "distributed: " << tg::distributed::size() << " processes, each with its part of every batch of "
              << args.batch_size << "\n";
  }
  if (args.threads > 0) tg::set_num_threads(args.threads);
  tg::manual_seed(args.seed);
  tg::mixed_precision::set_global_policy(args.mixed_precision ? "mixed_bfloat16" : "float32");
  if (args.mixed_precision) std::cout << "mixed_bfloat16: bf16 products on " << tg::bf16_isa_name(tg::bf16_isa()) << "\n";
  return session;
}

td::Split apply_limits(const td::Split& data, const Args& args) {
  return {args.train_limit ? data.train->head(args.train_limit) : data.train,
          args.test_limit ? data.test->head(args.test_limit) : data.test};
}

double evaluate_accuracy(tg::Layer& model, const td::TensorDataset& test, int64_t batch_size, const td::Transform& preprocess) {
  tg::NoGradGuard no_grad;
  // In a distributed job each rank classifies its rows of every batch (when each rank gets some).
  const int ranks = tg::distributed::size();
  const int64_t n = test.size(), last = n % batch_size;
  const bool shard = batch_size >= ranks && (last == 0 || last >= ranks);
  td::DataLoader loader(std::make_shared<td::TensorDataset>(test.x(), test.y()),
                        {.batch_size = batch_size, .transform = preprocess, .prefetch = 1,
                         .shard = shard ? tg::distributed::data_shard() : td::Shard{}});
  double correct = 0, seen = 0;
  for (auto& [x, y] : loader) {
    const tg::Tensor predicted = tg::argmax(model(tg::Variable(x), /*training=*/false).value(), 1);
    for (int64_t i = 0; i < predicted.numel(); ++i) correct += predicted.data()[i] == y.data()[i];
    seen += predicted.numel();
  }
  if (shard) {
    double counts[2] = {correct, seen};
    tg::distributed::sum(counts);
    correct = counts[0], seen = counts[1];
  }
  return seen > 0 ? correct / seen : 0.0;
}

RunResult train_classifier(tg::Layer& model, tg::Optimizer& optimizer, td::DataLoader& train, const td::TensorDataset& test,
                           const td::Transform& test_preprocess, const Args& args) {
  tg::TrainingProgress progress;
  const tg::TrainingState state{&model, &optimizer, &train, &progress, {}};
  if (args.resume) {
    tg::load_checkpoint(args.checkpoint, state);
    std::cout << "resumed from " << args.checkpoint << " at epoch " << progress.epoch + 1 << ", step " << progress.step << "\n";
  }
  // Data parallel (--distributed): the loader gives this rank its rows of each batch; every rank
  // starts from rank 0's weights (or the same checkpoint) and steps with the gradient averaged over
  // the ranks; the running sums below are the whole job's.
  const bool distributed = tg::distributed::size() > 1;
  if (distributed && train.options().shard.count != tg::distributed::size())
    tg::fail("train_classifier", "the training loader has " + std::to_string(train.options().shard.count) + " shards for " +
                                     std::to_string(tg::distributed::size()) + " processes (LoaderOptions::shard = distributed::data_shard())");
  if (distributed && !args.resume) tg::distributed::broadcast_parameters(model);
  std::unique_ptr<tg::distributed::GradientAverager> averager;
  if (distributed) averager = std::make_unique<tg::distributed::GradientAverager>(model);
  auto save = [&] {
    if (args.checkpoint.empty()) return;
    tg::save_checkpoint(args.checkpoint, state);
  };

  if (args.profile) tg::profiler::enable();
  // The per-op table at the end (also when --steps stops the run early).
  struct PrintProfile {
    bool on;
    ~PrintProfile() {
      if (on) std::cout << "\nper-op profile:\n" << tg::profiler::table(15);
    }
  } print_profile{args.profile};

  tg::ProgressBar bar;
  tg::FitContext context{&model, &optimizer, args.epochs, train.batches_per_epoch(), train.dataset().size()};
  bar.set_context(&context);
  RunResult result;
  while (progress.epoch < args.epochs) {
    tg::Logs logs;
    bar.on_epoch_begin(static_cast<int>(progress.epoch), logs);
    // Running sums of the epoch; kept in the checkpoint so a resumed epoch reports the same means.
    double& loss_sum = progress.values["epoch_loss_sum"];
    double& correct = progress.values["epoch_correct"];
    double& seen = progress.values["epoch_seen"];
    while (auto batch = train.next()) {
      tg::profiler::mark();  // loading the batch is not the first op's forward
      auto logits = model(tg::Variable(batch->x), /*training=*/true);
      auto loss = tg::losses::sparse_categorical_crossentropy(batch->y, logits, {.from_logits = true}) + model.losses();
      optimizer.zero_grad();
      loss.backward();
      if (averager) {
        tg::profiler::ProfileScope scope("average_gradients");
        averager->average(batch->x.dim(0));
      }
      {
        tg::profiler::ProfileScope scope("optimizer.step");
        optimizer.step();
      }
      ++progress.step;
      const double n = static_cast<double>(batch->y.numel());
      double batch_sums[3] = {loss.item() * n, tg::metrics::sparse_categorical_accuracy(batch->y, logits.value()) * n, n};
      tg::distributed::sum(batch_sums);  // the whole batch's, over the ranks (so every rank decides alike below)
      if (!std::isfinite(batch_sums[0])) {
        // As Keras' TerminateOnNaN; the last checkpoint keeps the weights from before.
        std::cout << "\nstopping: the loss is " << batch_sums[0] / batch_sums[2] << " at step " << progress.step << " (epoch "
                  << progress.epoch + 1 << ")"
                  << (args.checkpoint.empty() ? "" : "; " + args.checkpoint + " keeps the last good weights") << "\n";
        result.diverged = true;
        return result;
      }
      loss_sum += batch_sums[0];
      correct += batch_sums[1];
      seen += batch_sums[2];
      logs.set("loss", loss_sum / seen);
      logs.set("accuracy", correct / seen);
      bar.on_batch_end(train.state().batch - 1, logs);
      if (args.steps > 0 && progress.step >= args.steps) {
        save();
        std::cout << "\nstopped after " << progress.step << " steps (--steps)"
                  << (args.checkpoint.empty() ? "" : "; resume with --resume --checkpoint " + args.checkpoint) << "\n";
        return result;
      }
    }
    result.test_accuracy = evaluate_accuracy(model, test, 1000, test_preprocess);
    logs.set("val_accuracy", result.test_accuracy);
    bar.on_epoch_end(static_cast<int>(progress.epoch), logs);
    progress.history["loss"].push_back(loss_sum / seen);
    progress.history["accuracy"].push_back(correct / seen);
    progress.history["val_accuracy"].push_back(result.test_accuracy);
    loss_sum = correct = seen = 0.0;
    ++progress.epoch;
    save();
  }
  if (args.resume && progress.history.count("val_accuracy")) result.test_accuracy = progress.history["val_accuracy"].back();
  result.finished = true;
  std::cout << std::fixed << std::setprecision(4) << "test_accuracy: " << result.test_accuracy << "\n";
  return result;
}

}  // namespace examples
