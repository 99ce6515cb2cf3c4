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
      "Trains a CNN (conv 32, pool, conv 64, pool, dense 128, dropout) on Fashion-MNIST with Adam,\n"
      "random horizontal flips and small translations; prints the test accuracy; saves a checkpoint.");
  try {
    if (args.threads > 0) tg::set_num_threads(args.threads);
    tg::manual_seed(args.seed);
    auto data = td::mnist_format(args.data);
    auto train_set = args.train_limit ? data.train->head(args.train_limit) : data.train;
    auto test_set = args.test_limit ? data.test->head(args.test_limit) : data.test;
    std::cout << "Fashion-MNIST: " << train_set->size() << " training and " << test_set->size() << " test images from "
              << args.data << "\n";

    auto model = examples::fashion_mnist_cnn();
    model->build({28, 28, 1});
    model->summary();
    auto optimizer = examples::make_optimizer(args, "adam", 1e-3f, model->parameters());
    const td::Transform preprocess = td::scale(1.0f / 255.0f);
    td::DataLoader train(train_set, {.batch_size = args.batch_size, .shuffle = true, .seed = args.seed,
                                     .transform = args.augment ? td::compose({preprocess, td::random_flip(),
                                                                              td::random_translation(0.08f, 0.08f)})
                                                               : preprocess});
    const auto result = examples::train_classifier(*model, *optimizer, train, *test_set, preprocess, args);
    if (!args.checkpoint.empty()) std::cout << "checkpoint: " << std::filesystem::absolute(args.checkpoint).string() << "\n";
    (void)result;
  } catch (const tg::Error& e) {
    std::cerr << "fashion_mnist: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
