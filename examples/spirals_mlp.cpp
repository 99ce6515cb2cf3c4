// Trains a small MLP on the two-spirals problem with a hand-written training loop — forward,
// loss, zero_grad, backward, step — and prints the loss and accuracy per epoch. It also shows
// checkpoints by hand: --checkpoint PATH saves after every epoch (and at --steps), --resume
// continues exactly where the saved run stopped.
#include <tapegrad/tapegrad.h>

#include <chrono>
#include <cmath>
#include <iostream>

#include "support/cli.h"

namespace tg = tapegrad;
namespace td = tapegrad::data;

int main(int argc, char** argv) {
  examples::Args defaults;
  defaults.epochs = 100;
  defaults.batch_size = 32;
  defaults.learning_rate = 0.02f;
  defaults.optimizer = "sgd";
  const auto args = examples::parse_args(
      argc, argv, defaults, "spirals_mlp",
      "Trains Dense(64, relu) -> Dropout(0.1) -> Dense(64, relu) -> Dense(2) on two spirals with SGD\n"
      "(momentum 0.9), inputs jittered by Gaussian noise, and prints the loss and accuracy per epoch.");
  try {
    if (args.threads > 0) tg::set_num_threads(args.threads);
    tg::manual_seed(args.seed);
    const auto train_points = td::two_spirals(500, args.seed), test_points = td::two_spirals(250, args.seed + 1000);
    auto train_set = std::make_shared<td::TensorDataset>(train_points.x, train_points.y);

    tg::Sequential model({tg::Dense(64, {.activation = "relu"}), tg::Dropout(0.1f), tg::Dense(64, {.activation = "relu"}),
                          tg::Dense(2)});
    model.build({2});
    model.summary();
    tg::SGD opt(model.parameters(), {.learning_rate = args.learning_rate, .momentum = 0.9f});
    // Augmentation: each point jittered by N(0, 0.02) noise, drawn from the loader's per-sample Rng.
    // The description goes into checkpoints: resuming with other augmentation is refused.
    const td::Transform jitter([](float* x, const tg::Shape& s, tg::Rng& rng) {
      for (int64_t i = 0; i < s.numel(); ++i) x[i] += rng.normal(0.0f, 0.02f);
    }, "jitter(0.02)");
    td::DataLoader train(train_set, {.batch_size = args.batch_size, .shuffle = true, .seed = args.seed, .transform = jitter});

    tg::TrainingProgress progress;
    const tg::TrainingState state{&model, &opt, &train, &progress, {}};
    if (args.resume) tg::load_checkpoint(args.checkpoint, state);
    if (args.profile) tg::profiler::enable();
    const auto start = std::chrono::steady_clock::now();
    while (progress.epoch < args.epochs) {
      while (auto batch = train.next()) {
        auto logits = model(tg::Variable(batch->x), /*training=*/true);
        auto loss = tg::losses::sparse_categorical_crossentropy(batch->y, logits, {.from_logits = true});
        opt.zero_grad();
        loss.backward();
        opt.step();
        ++progress.step;  // counted always, so a checkpoint knows its step and --steps is a total
        if (!std::isfinite(loss.item())) {
          std::cout << "stopping: the loss is " << loss.item() << " at step " << progress.step
                    << "; the last checkpoint keeps the weights from before\n";
          return 2;
        }
        progress.values["epoch_loss_sum"] += loss.item();
        progress.values["epoch_batches"] += 1;
        if (args.steps > 0 && progress.step >= args.steps) {
          if (!args.checkpoint.empty()) tg::save_checkpoint(args.checkpoint, state);
          std::cout << "stopped after " << progress.step << " steps\n";
          return 0;
        }
      }
      ++progress.epoch;
      const double mean_loss = progress.values["epoch_loss_sum"] / progress.values["epoch_batches"];
      progress.values["epoch_loss_sum"] = progress.values["epoch_batches"] = 0;
      progress.history["loss"].push_back(mean_loss);
      if (!args.checkpoint.empty()) tg::save_checkpoint(args.checkpoint, state);
      if (progress.epoch % 10 == 0 || progress.epoch == args.epochs) {
        tg::NoGradGuard no_grad;
        const double train_acc = tg::metrics::sparse_categorical_accuracy(train_points.y, model(tg::Variable(train_points.x)).value());
        const double test_acc = tg::metrics::sparse_categorical_accuracy(test_points.y, model(tg::Variable(test_points.x)).value());
        std::cout << "epoch " << progress.epoch << "/" << args.epochs << "  loss " << mean_loss << "  accuracy " << train_acc
                  << "  test_accuracy " << test_acc << std::endl;
      }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "trained to epoch " << args.epochs << " in " << seconds << " s\n";
    if (args.profile) std::cout << "\nper-op profile:\n" << tg::profiler::table(15);
  } catch (const std::exception& e) {  // tapegrad::Error, and anything else (bad_alloc, ...)
    std::cerr << "spirals_mlp: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
