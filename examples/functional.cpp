// Graphs of layers (the functional API) on Fashion-MNIST: --model toy_resnet (the Keras guide's
// toy ResNet), resnet20 (ResNet-20 as a graph), inception (Inception-style blocks) train as
// classifiers with the shared loop (checkpoints, --resume); siamese learns whether two images show
// the same kind of garment, a model of two inputs with one shared tower, in a loop written here.
// Every model prints its summary; --dot FILE writes its graph for Graphviz, --json FILE its
// architecture as Keras' JSON, and stop.
#include <fstream>
#include <iostream>

#include "support/cli.h"
#include "support/functional_models.h"
#include "support/train_loop.h"

namespace tg = tapegrad;
namespace td = tapegrad::data;

namespace {

// `count` pairs of images, half of one class (target 1) and half of two (target 0), drawn from
// `rng`; pixels scaled to [0, 1].
struct Pairs {
  tg::Tensor left, right, same;
};
Pairs draw_pairs(const td::TensorDataset& set, int64_t count, tg::Rng& rng) {
  const int64_t n = set.size();
  const float* labels = set.y().data();
  std::vector<int64_t> a(static_cast<size_t>(count)), b(static_cast<size_t>(count));
  tg::Tensor same = tg::Tensor::zeros({count, 1});
  for (int64_t k = 0; k < count; ++k) {
    const int64_t i = static_cast<int64_t>(rng.uniform_int(static_cast<uint64_t>(n)));
    const bool want_same = k % 2 == 0;
    int64_t j = static_cast<int64_t>(rng.uniform_int(static_cast<uint64_t>(n)));
    while ((labels[j] == labels[i]) != want_same) j = static_cast<int64_t>(rng.uniform_int(static_cast<uint64_t>(n)));
    a[static_cast<size_t>(k)] = i;
    b[static_cast<size_t>(k)] = j;
    same.data()[k] = want_same ? 1.0f : 0.0f;
  }
  return {tg::mul(tg::take_rows(set.x(), a), 1.0f / 255.0f), tg::mul(tg::take_rows(set.x(), b), 1.0f / 255.0f), same};
}

// Fraction of pairs whose logit has the sign of the truth.
double pair_accuracy(tg::Model& model, const Pairs& pairs) {
  tg::NoGradGuard no_grad;
  const tg::Tensor logits = model({tg::Variable(pairs.left), tg::Variable(pairs.right)})[0].value();
  int64_t right = 0;
  for (int64_t k = 0; k < logits.numel(); ++k) right += (logits.data()[k] > 0.0f) == (pairs.same.data()[k] > 0.5f);
  return static_cast<double>(right) / static_cast<double>(logits.numel());
}

int train_siamese(tg::Model& model, const td::Split& data, const examples::Args& args) {
  tg::Adam optimizer(model.parameters(), {.learning_rate = args.learning_rate > 0 ? args.learning_rate : 1e-3f});
  tg::Rng rng(args.seed);
  const Pairs test = draw_pairs(*data.test, 2000, rng);
  const int64_t steps = args.steps > 0 ? args.steps : 400;
  for (int64_t step = 1; step <= steps; ++step) {
    const Pairs batch = draw_pairs(*data.train, args.batch_size, rng);
    const tg::Variable logits = model({tg::Variable(batch.left), tg::Variable(batch.right)}, true)[0];
    const tg::Variable loss = tg::losses::binary_crossentropy(batch.same, logits, {.from_logits = true});
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    if (step % 100 == 0 || step == steps)
      std::cout << "step " << step << "/" << steps << "  loss " << loss.value().item() << "\n";
  }
  std::cout << "test pair accuracy: " << pair_accuracy(model, test) << " (2000 pairs, half of one class)\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  examples::Args defaults;
  defaults.epochs = 3;
  defaults.batch_size = 64;
  defaults.data = td::kFashionMnistDir;
  defaults.optimizer = "adam";
  defaults.model = "toy_resnet";
  const auto args = examples::parse_args(
      argc, argv, defaults, "functional",
      "Models written with the functional API (tg::Input, tg::Model) on Fashion-MNIST. --model\n"
      "toy_resnet | resnet20 | inception train as classifiers; siamese learns same-garment pairs\n"
      "(--steps N, default 400). Each prints its summary.");
  try {
    const auto session = examples::apply_runtime_args(argc, argv, args);  // inside the try: see train_loop.h
    const tg::Shape image{28, 28, 1};
    std::shared_ptr<tg::Model> model;
    if (args.model == "toy_resnet") model = examples::toy_resnet(image, 10);
    else if (args.model == "resnet20") model = examples::resnet20_functional(image, 10);
    else if (args.model == "inception") model = examples::inception_net(image, 10);
    else if (args.model == "siamese") model = examples::siamese_net(image);
    else throw std::invalid_argument("--model must be toy_resnet, resnet20, inception or siamese, got '" + args.model + "'");
    model->summary();
    if (!args.dot.empty()) {
      std::ofstream(args.dot) << model->to_dot({.show_shapes = true});
      std::cout << "graph written to " << args.dot << " (render it: dot -Tpng " << args.dot << " -o graph.png)\n";
    }
    if (!args.json.empty()) {
      std::ofstream(args.json) << model->to_json();
      std::cout << "architecture written to " << args.json << " (tg::model_from_json reads it, as Keras' model_from_json)\n";
    }
    if (!args.dot.empty() || !args.json.empty()) return 0;
    const auto data = examples::apply_limits(td::mnist_format(args.data), args);
    if (args.model == "siamese") return train_siamese(*model, data, args);
    const td::Transform preprocess = td::scale(1.0f / 255.0f);
    td::DataLoader train(data.train, {.batch_size = args.batch_size, .shuffle = true, .seed = args.seed,
                                      .transform = args.augment ? td::compose({preprocess, td::random_flip()}) : preprocess,
                                      .shard = tg::distributed::data_shard()});
    auto optimizer = examples::make_optimizer(args, "adam", 1e-3f, model->parameters());
    if (examples::train_classifier(*model, *optimizer, train, *data.test, preprocess, args).diverged) return 2;
  } catch (const std::exception& e) {  // tapegrad::Error, and anything else (bad_alloc, ...)
    std::cerr << "functional: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
