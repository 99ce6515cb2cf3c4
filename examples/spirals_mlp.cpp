// Trains a small MLP on the two-spirals problem with a hand-written training loop: forward,
// loss, zero_grad, backward, step. Prints the loss and accuracy of every epoch.
#include <tapegrad/tapegrad.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <numeric>
#include <string>

namespace tg = tapegrad;

namespace {

struct Args {
  int epochs = 300;
  int64_t batch_size = 32;
  float learning_rate = 0.05f;
  float momentum = 0.9f;
  int threads = 0;  // 0: TBB's default
  uint64_t seed = 1;
  int print_every = 10;
};

void usage() {
  std::cout << "usage: spirals_mlp [--epochs N] [--batch-size N] [--lr X] [--momentum X] [--threads N]\n"
               "                   [--seed N] [--print-every N]\n"
               "Trains Dense(64, relu) -> Dense(64, relu) -> Dense(2) on two spirals with SGD and prints\n"
               "the loss and accuracy per epoch.\n";
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      usage();
      std::exit(0);
    }
    if (i + 1 >= argc) {
      std::cerr << "spirals_mlp: " << flag << " needs a value\n";
      usage();
      std::exit(2);
    }
    const char* v = argv[++i];
    if (flag == "--epochs") a.epochs = std::atoi(v);
    else if (flag == "--batch-size") a.batch_size = std::atoll(v);
    else if (flag == "--lr") a.learning_rate = std::strtof(v, nullptr);
    else if (flag == "--momentum") a.momentum = std::strtof(v, nullptr);
    else if (flag == "--threads") a.threads = std::atoi(v);
    else if (flag == "--seed") a.seed = std::strtoull(v, nullptr, 10);
    else if (flag == "--print-every") a.print_every = std::atoi(v);
    else {
      std::cerr << "spirals_mlp: unknown option " << flag << "\n";
      usage();
      std::exit(2);
    }
  }
  if (a.epochs < 1 || a.batch_size < 1 || a.print_every < 1) {
    std::cerr << "spirals_mlp: --epochs, --batch-size and --print-every must be positive\n";
    std::exit(2);
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  if (args.threads > 0) tg::set_num_threads(args.threads);
  tg::manual_seed(args.seed);

  const auto train = tg::data::two_spirals(500, args.seed);
  const auto test = tg::data::two_spirals(250, args.seed + 1000);

  tg::Sequential model({tg::Dense(64, {.activation = "relu"}), tg::Dense(64, {.activation = "relu"}), tg::Dense(2)});
  model.build({2});
  model.summary();
  tg::SGD opt(model.parameters(), {.learning_rate = args.learning_rate, .momentum = args.momentum});

  const int64_t n = train.x.dim(0);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  tg::Rng shuffle_rng(args.seed);
  const auto start = std::chrono::steady_clock::now();
  for (int epoch = 1; epoch <= args.epochs; ++epoch) {
    for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[shuffle_rng.uniform_int(i + 1)]);
    double loss_sum = 0.0;
    int64_t batches = 0;
    for (int64_t b = 0; b < n; b += args.batch_size) {
      const std::vector<int64_t> idx(order.begin() + b, order.begin() + std::min(n, b + args.batch_size));
      const tg::Variable x(tg::take_rows(train.x, idx));
      const tg::Tensor y = tg::take_rows(train.y, idx);
      auto logits = model(x, /*training=*/true);
      auto loss = tg::losses::sparse_categorical_crossentropy(y, logits, {.from_logits = true});
      opt.zero_grad();
      loss.backward();
      opt.step();
      loss_sum += loss.item();
      ++batches;
    }
    if (epoch % args.print_every == 0 || epoch == args.epochs) {
      tg::NoGradGuard no_grad;
      const double train_acc = tg::metrics::sparse_categorical_accuracy(train.y, model(tg::Variable(train.x)).value());
      const double test_acc = tg::metrics::sparse_categorical_accuracy(test.y, model(tg::Variable(test.x)).value());
      std::cout << "epoch " << epoch << "/" << args.epochs << "  loss " << loss_sum / static_cast<double>(batches)
                << "  accuracy " << train_acc << "  test_accuracy " << test_acc << std::endl;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "trained " << args.epochs << " epochs in " << seconds << " s\n";
  return 0;
}
