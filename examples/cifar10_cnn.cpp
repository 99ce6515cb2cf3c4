// Keras' classic cifar10_cnn on CIFAR-10's binary files (--data DIR, the cifar-10-batches-bin
// folder of https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz): RMSprop (or --optimizer
// adam), random crops and flips, a checkpoint per epoch, --resume.
#include <iostream>

#include "support/cli.h"
#include "support/models.h"
#include "support/train_loop.h"

namespace tg = tapegrad;
namespace td = tapegrad::data;

int main(int argc, char** argv) {
  examples::Args defaults;
  defaults.epochs = 50;
  defaults.batch_size = 32;
  defaults.data = "data/cifar-10-batches-bin";
  defaults.checkpoint = "cifar10_cnn.ckpt";
  defaults.optimizer = "rmsprop";
  const auto args = examples::parse_args(argc, argv, defaults, "cifar10_cnn",
                                         "Trains Keras' cifar10_cnn (1,250,858 parameters) on CIFAR-10.\n"
                                         "CIFAR-10 cannot be downloaded by this program: unpack cifar-10-binary.tar.gz\n"
                                         "and pass its cifar-10-batches-bin folder with --data.");
  try {
    const auto session = examples::apply_runtime_args(argc, argv, args);  // inside the try: see train_loop.h
    const auto [train_set, test_set] = examples::apply_limits(td::cifar10(args.data), args);
    auto model = examples::keras_cifar10_cnn();
    model->build({32, 32, 3});
    model->summary();
    // Keras' example: RMSprop(learning_rate=1e-4, decay=1e-6).
    auto optimizer = examples::make_optimizer(args, "rmsprop", 1e-4f, model->parameters());
    const td::Transform preprocess = td::scale(1.0f / 255.0f);
    td::DataLoader train(train_set, {.batch_size = args.batch_size, .shuffle = true, .seed = args.seed,
                                     .transform = args.augment ? td::compose({preprocess, td::random_crop_flip(4)}) : preprocess,
                                     .shard = tg::distributed::data_shard()});
    if (examples::train_classifier(*model, *optimizer, train, *test_set, preprocess, args).diverged) return 2;
  } catch (const std::exception& e) {  // tapegrad::Error, and anything else (bad_alloc, ...)
    std::cerr << "cifar10_cnn: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
