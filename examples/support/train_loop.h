#pragma once
// The training loop the example programs share, written the way a user writes one: forward,
// loss (+ model.losses()), zero_grad, backward, step; a Keras-style progress bar; a checkpoint
// after every epoch (and when a step limit stops the run), from which --resume continues
// bit for bit; the test accuracy at the end of every epoch.
#include <memory>

#include "support/cli.h"
#include "tapegrad/distributed/distributed.h"
#include "tapegrad/tapegrad.h"

namespace examples {

struct RunResult {
  double test_accuracy = 0.0;
  bool finished = false;  // false when --steps stopped the run early
  bool diverged = false;  // the loss became NaN or Inf: stopped without saving
};

// Builds the optimizer the arguments name (default_name when --optimizer is not given).
// Applies --threads, --seed (seeding default_rng(), which the weights and dropout draw from) and
// --mixed-precision. With --distributed it starts MPI for as long as the returned session lives,
// and only rank 0 prints. Declared inside main's try block, the session ends the whole job when an
// error leaves it on one rank (the others would wait for that rank forever).
[[nodiscard]] std::unique_ptr<tapegrad::distributed::Session> apply_runtime_args(int& argc, char**& argv, const Args& args);
// The data set cut down to --train-limit / --test-limit samples, when given.
tapegrad::data::Split apply_limits(const tapegrad::data::Split& data, const Args& args);

// --lr, when given, is a constant rate; otherwise `default_lr` (a constant or a schedule).
std::unique_ptr<tapegrad::Optimizer> make_optimizer(const Args& args, const std::string& default_name,
                                                    const tapegrad::LearningRate& default_lr,
                                                    const std::vector<tapegrad::ParameterPtr>& parameters);

// Classification training of `model` (logits out) on `train`, evaluated on `test` after each
// epoch (its samples go through `test_preprocess` first, e.g. the scaling the train loader does).
RunResult train_classifier(tapegrad::Layer& model, tapegrad::Optimizer& optimizer, tapegrad::data::DataLoader& train,
                           const tapegrad::data::TensorDataset& test, const tapegrad::data::Transform& test_preprocess,
                           const Args& args);

// Fraction of `test` that the model (inference mode) classifies right, in batches.
double evaluate_accuracy(tapegrad::Layer& model, const tapegrad::data::TensorDataset& test, int64_t batch_size,
                         const tapegrad::data::Transform& preprocess);

}  // namespace examples
