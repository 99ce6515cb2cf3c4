#pragma once
// The command line shared by the example programs: --help, epochs, batch size, threads, data
// folder, checkpoint path, --resume, a step limit (to stop mid-run and resume), a training subset.
#include <cstdint>
#include <string>

namespace examples {

struct Args {
  int epochs = 10;
  int64_t batch_size = 128;
  int threads = 0;           // 0: all cores
  std::string data;          // dataset folder
  std::string checkpoint;    // saved at every epoch end (and at a step limit); empty: none
  bool resume = false;       // continue from --checkpoint
  int64_t steps = 0;         // stop after this many training steps in total (0: no limit)
  int64_t train_limit = 0;   // use the first N training samples (0: all)
  int64_t test_limit = 0;    // evaluate on the first N test samples (0: all)
  uint64_t seed = 1;
  float learning_rate = 0.0f;  // 0: the program's default
  std::string optimizer;       // empty: the program's default
  bool augment = true;
  bool profile = false;
  bool mixed_precision = false;  // build the model under Keras' mixed_bfloat16 policy
  bool distributed = false;      // data parallel over the processes of mpirun
  std::string model;             // programs with several networks: which one
  std::string dot;               // write the model's graph there (Graphviz DOT); empty: none
  std::string json;              // write the model's architecture there (Keras' JSON); empty: none
};

// Parses argv over `defaults`; prints usage and exits on --help (0) or a bad argument (2).
Args parse_args(int argc, char** argv, Args defaults, const std::string& program, const std::string& description);

}  // namespace examples
