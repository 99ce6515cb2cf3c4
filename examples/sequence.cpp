// Sequence classification on real data every machine here has: Fashion-MNIST (Debian's
// dataset-fashion-mnist) read row by row, 28 steps of 28 features, through an LSTM, a GRU or a
// Bidirectional GRU and a dense layer; prints the progress and the test accuracy, saves a checkpoint after each
// epoch, and continues with --resume.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include "support/cli.h"
#include "support/train_loop.h"
#include "tapegrad/tapegrad.h"

namespace tg = tapegrad;
namespace td = tapegrad::data;

int main(int argc, char** argv) {
  examples::Args defaults;
  defaults.epochs = 12;
  defaults.batch_size = 128;
  defaults.data = td::kFashionMnistDir;
  defaults.checkpoint = "sequence.ckpt";
  defaults.optimizer = "adam";
  defaults.model = "lstm";
  const auto args = examples::parse_args(
      argc, argv, defaults, "sequence",
      "Classifies Fashion-MNIST images read as sequences (28 rows of 28 pixels) with a recurrent\n"
      "layer of 128 units and a dense layer: --model lstm (default), gru or bigru (a Bidirectional\n"
      "GRU, 64 units each way). Adam with a cosine-\n"
      "decayed learning rate; prints the test accuracy after each epoch; saves a checkpoint after\n"
      "each epoch. --json FILE writes the model's architecture (Keras' JSON) and stops.");
  try {
    const auto session = examples::apply_runtime_args(argc, argv, args);  // inside the try: see train_loop.h
    if (!args.dot.empty()) throw std::invalid_argument("--dot draws graph models; this program's are Sequential (try --json)");
    std::shared_ptr<tg::Sequential> model;
    if (args.model == "lstm")
      model = std::make_shared<tg::Sequential>(std::vector<tg::LayerRef>{tg::Reshape({28, 28}), tg::LSTM(128), tg::Dense(10)},
                                               tg::LayerOptions{"lstm_rows"});
    else if (args.model == "gru")
      model = std::make_shared<tg::Sequential>(std::vector<tg::LayerRef>{tg::Reshape({28, 28}), tg::GRU(128), tg::Dense(10)},
                                               tg::LayerOptions{"gru_rows"});
    else if (args.model == "bigru")
      model = std::make_shared<tg::Sequential>(
          std::vector<tg::LayerRef>{tg::Reshape({28, 28}), tg::Bidirectional(tg::GRU(64)), tg::Dense(10)},
          tg::LayerOptions{"bigru_rows"});
    else
      throw std::invalid_argument("--model must be lstm, gru or bigru, got '" + args.model + "'");
    model->build({28, 28, 1});
    model->summary();
    if (!args.json.empty()) {
      std::ofstream(args.json) << model->to_json();
      std::cout << "architecture written to " << args.json << "\n";
      return 0;
    }
    const auto [train_set, test_set] = examples::apply_limits(td::mnist_format(args.data), args);
    std::cout << "Fashion-MNIST as sequences: " << train_set->size() << " training and " << test_set->size()
              << " test images from " << args.data << "\n";
    const td::Transform preprocess = td::scale(1.0f / 255.0f);
    td::DataLoader train(train_set, {.batch_size = args.batch_size, .shuffle = true, .seed = args.seed, .transform = preprocess,
                                     .shard = tg::distributed::data_shard()});
    const int64_t total_steps = static_cast<int64_t>(args.epochs) * train.batches_per_epoch();
    auto optimizer = examples::make_optimizer(args, "adam", tg::CosineDecay(2e-3f, total_steps, {.alpha = 0.01f}),
                                              model->parameters());
    const auto result = examples::train_classifier(*model, *optimizer, train, *test_set, preprocess, args);
    if (result.diverged) return 2;  // the message is printed; the last good checkpoint stays
    if (!args.checkpoint.empty()) std::cout << "checkpoint: " << std::filesystem::absolute(args.checkpoint).string() << "\n";
  } catch (const std::exception& e) {  // tapegrad::Error, and anything else (bad_alloc, ...)
    std::cerr << "sequence: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
