// ResNet-20 on CIFAR-10 (--data DIR, the cifar-10-batches-bin folder): the dynamic-graph showcase,
// a C++ class whose forward() composes layers and residual additions. SGD with momentum, random
// crops and flips, per-channel normalization, a checkpoint per epoch, --resume.
#include <iostream>

#include "support/cli.h"
#include "support/models.h"
#include "support/train_loop.h"

namespace tg = tapegrad;
namespace td = tapegrad::data;

int main(int argc, char** argv) {
  examples::Args defaults;
  defaults.epochs = 30;
  defaults.batch_size = 128;
  defaults.data = "data/cifar-10-batches-bin";
  defaults.checkpoint = "resnet20.ckpt";
  defaults.optimizer = "sgd";
  const auto args = examples::parse_args(argc, argv, defaults, "resnet",
                                         "Trains ResNet-20 on CIFAR-10. CIFAR-10 cannot be downloaded by this program:\n"
                                         "unpack cifar-10-binary.tar.gz and pass its cifar-10-batches-bin folder with --data.");
  try {
    const auto session = examples::apply_runtime_args(argc, argv, args);  // inside the try: see train_loop.h
    const auto [train_set, test_set] = examples::apply_limits(td::cifar10(args.data), args);
    examples::ResNet20 model;
    model.build({32, 32, 3});
    model.summary();  // a model class: its shapes come from build()'s dry run
    auto optimizer = examples::make_optimizer(args, "sgd", 0.1f, model.parameters());
    // CIFAR-10's per-channel mean and standard deviation (of pixels in [0, 1]).
    const td::Transform preprocess =
        td::compose({td::scale(1.0f / 255.0f), td::normalize({0.4914f, 0.4822f, 0.4465f}, {0.2470f, 0.2435f, 0.2616f})});
    td::DataLoader train(train_set, {.batch_size = args.batch_size, .shuffle = true, .seed = args.seed,
                                     .transform = args.augment ? td::compose({preprocess, td::random_crop_flip(4)}) : preprocess,
                                     .shard = tg::distributed::data_shard()});
    if (examples::train_classifier(model, *optimizer, train, *test_set, preprocess, args).diverged) return 2;
  } catch (const std::exception& e) {  // tapegrad::Error, and anything else (bad_alloc, ...)
    std::cerr << "resnet: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
