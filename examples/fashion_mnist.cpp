// Trains a CNN on Fashion-MNIST (Debian's dataset-fashion-mnist package, which scripts/setup.sh
// installs), prints the progress and the test accuracy, and saves a checkpoint. The README's main
// job. Stop it (or pass --steps) and continue with --resume.
#include <filesystem>
#include <iostream>

#include "support/cli.h"
#include "support/models.h"
#include "support/train_loop.h"

namespace tg = tapegrad;
namespace td = tapegrad::data;

int main(int argc, char** argv) {
  examples::Args defaults;
  defaults.epochs = 12;
  defaults.batch_size = 128;
  defaults.data = td::kFashionMnistDir;
  defaults.checkpoint = "fashion_mnist.ckpt";
  defaults.optimizer = "adam";
  const auto args = examples::parse_args(
      argc, argv, defaults, "fashion_mnist",
      "Trains a CNN (conv 32, pool, conv 64, pool, dense 128, dropout) on Fashion-MNIST with Adam\n"
      "(cosine-decayed learning rate) and random horizontal flips; prints the test accuracy after\n"
      "each epoch; saves a checkpoint after each epoch.");
  try {
    const auto session = examples::apply_runtime_args(argc, argv, args);  // inside the try: see train_loop.h
    const auto [train_set, test_set] = examples::apply_limits(td::mnist_format(args.data), args);
    std::cout << "Fashion-MNIST: " << train_set->size() << " training and " << test_set->size() << " test images from "
              << args.data << "\n";

    auto model = examples::fashion_mnist_cnn();
    model->build({28, 28, 1});
    model->summary();
    const td::Transform preprocess = td::scale(1.0f / 255.0f);
    td::DataLoader train(train_set, {.batch_size = args.batch_size, .shuffle = true, .seed = args.seed,
                                     .transform = args.augment ? td::compose({preprocess, td::random_flip()}) : preprocess,
                                     .shard = tg::distributed::data_shard()});  // this rank's rows of each batch
    // Adam at 1e-3, cosine-decayed to 1e-5 over the whole run.
    const int64_t total_steps = static_cast<int64_t>(args.epochs) * train.batches_per_epoch();
    auto optimizer = examples::make_optimizer(args, "adam", tg::CosineDecay(1e-3f, total_steps, {.alpha = 0.01f}),
                                              model->parameters());
    const auto result = examples::train_classifier(*model, *optimizer, train, *test_set, preprocess, args);
    if (result.diverged) return 2;  // the message is printed; the last good checkpoint stays
    if (!args.checkpoint.empty()) std::cout << "checkpoint: " << std::filesystem::absolute(args.checkpoint).string() << "\n";
  } catch (const std::exception& e) {  // tapegrad::Error, and anything else (bad_alloc, ...)
    std::cerr << "fashion_mnist: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
