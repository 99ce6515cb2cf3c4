#include "support/cli.h"

#include <cstdlib>
#include <iostream>
#include <stdexcept>

namespace examples {

namespace {

void usage(std::ostream& os, const std::string& program, const std::string& description, const Args& d) {
  os << "usage: " << program << " [options]\n\n" << description << "\n\noptions:\n"
     << "  --data DIR          dataset folder (default: " << (d.data.empty() ? "none" : d.data) << ")\n"
     << "  --epochs N          epochs to train (default: " << d.epochs << ")\n"
     << "  --batch-size N      samples per batch (default: " << d.batch_size << ")\n"
     << "  --threads N         worker threads (default: all cores)\n"
     << "  --lr X              learning rate (default: the program's)\n"
     << "  --optimizer NAME    adam, rmsprop or sgd (default: " << d.optimizer << ")\n"
     << "  --checkpoint PATH   save a checkpoint there after every epoch\n"
     << "  --resume            continue from --checkpoint exactly where it stopped\n"
     << "  --steps N           stop after N training steps in all (saving a checkpoint)\n"
     << "  --train-limit N     train on the first N samples only\n"
     << "  --test-limit N      evaluate on the first N test samples only\n"
     << "  --seed N            seed of the weights, shuffling, dropout and augmentation (default: " << d.seed << ")\n"
     << "  --no-augment        no random crops/flips\n"
     << "  --profile           print the time spent in each op at the end\n"
     << "  --mixed-precision   Keras' mixed_bfloat16 policy: float32 weights, bf16 products\n"
     << "  --distributed       data parallel over the processes of mpirun (--batch-size is the whole\n"
     << "                      job's batch; rank 0 prints and writes the checkpoint)\n"
     << (d.model.empty() ? "" : "  --model NAME        which network (default: " + d.model + ")\n")
     << (d.model.empty() ? "" : "  --dot FILE          write the model's graph to FILE (Graphviz DOT) and stop\n")
     << (d.model.empty() ? "" : "  --json FILE         write the model's architecture to FILE (Keras' JSON) and stop\n")
     << "  --help              this text\n";
}

int64_t to_int(const std::string& flag, const char* v) {
  char* end = nullptr;
  const long long n = std::strtoll(v, &end, 10);
  if (end == v || *end != '\0' || n < 0) throw std::invalid_argument(flag + " expects a non-negative integer, got '" + v + "'");
  return n;
}

}  // namespace

Args parse_args(int argc, char** argv, Args a, const std::string& program, const std::string& description) {
  const Args defaults = a;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string flag = argv[i];
      if (flag == "--help" || flag == "-h") {
        usage(std::cout, program, description, defaults);
        std::exit(0);
      }
      if (flag == "--resume") { a.resume = true; continue; }
      if (flag == "--no-augment") { a.augment = false; continue; }
      if (flag == "--profile") { a.profile = true; continue; }
      if (flag == "--mixed-precision") { a.mixed_precision = true; continue; }
      if (flag == "--distributed") { a.distributed = true; continue; }
      if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
      const char* v = argv[++i];
      if (flag == "--data") a.data = v;
      else if (flag == "--epochs") a.epochs = static_cast<int>(to_int(flag, v));
      else if (flag == "--batch-size") a.batch_size = to_int(flag, v);
      else if (flag == "--threads") a.threads = static_cast<int>(to_int(flag, v));
      else if (flag == "--lr") a.learning_rate = std::strtof(v, nullptr);
      else if (flag == "--optimizer") a.optimizer = v;
      else if (flag == "--checkpoint") a.checkpoint = v;
      else if (flag == "--steps") a.steps = to_int(flag, v);
      else if (flag == "--train-limit") a.train_limit = to_int(flag, v);
      else if (flag == "--test-limit") a.test_limit = to_int(flag, v);
      else if (flag == "--seed") a.seed = static_cast<uint64_t>(to_int(flag, v));
      else if (flag == "--model" && !defaults.model.empty()) a.model = v;
      else if (flag == "--dot" && !defaults.model.empty()) a.dot = v;
      else if (flag == "--json" && !defaults.model.empty()) a.json = v;
      else throw std::invalid_argument("unknown option " + flag);
    }
    if (a.epochs < 1 || a.batch_size < 1) throw std::invalid_argument("--epochs and --batch-size must be positive");
    if (a.resume && a.checkpoint.empty()) throw std::invalid_argument("--resume needs --checkpoint PATH");
    if (!(a.learning_rate >= 0.0f)) throw std::invalid_argument("--lr must be positive");
  } catch (const std::invalid_argument& e) {
    std::cerr << program << ": " << e.what() << "\n\n";
    usage(std::cerr, program, description, defaults);
    std::exit(2);
  }
  return a;
}

}  // namespace examples
