#pragma once
// Keras' fit / evaluate / predict for a model (any Layer) on in-memory tensors. The hand-written
// loop stays first-class; these are the same steps, plus batching, shuffling, validation,
// metrics, callbacks and the progress display.
//
//   tg::History h = tg::fit(model, opt, tg::losses::SparseCategoricalCrossentropy({.from_logits = true}),
//                           x, y, {.epochs = 10, .batch_size = 64, .validation_split = 0.1f,
//                                  .metrics = {std::make_shared<tg::metrics::SparseCategoricalAccuracy>()}});
//
// Semantics as Keras: the loss reported is the data loss plus model.losses() (activity
// penalties), a running mean over the epoch's batches weighted by batch size; validation_split
// takes the *last* fraction of the samples (before shuffling); validation runs in inference mode
// (training = false) without recording a tape; class_weight turns into per-sample weights of the
// loss (from class ids, or the argmax of one-hot targets).
#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <vector>

#include "tapegrad/layers/functional.h"
#include "tapegrad/layers/layer.h"
#include "tapegrad/optim/optimizer.h"
#include "tapegrad/train/callback.h"
#include "tapegrad/train/logs.h"
#include "tapegrad/train/loss.h"
#include "tapegrad/train/metrics.h"
#include "tapegrad/train/progress_bar.h"

namespace tapegrad {

using MetricPtr = std::shared_ptr<metrics::Metric>;

struct FitOptions {
  int epochs = 1;
  int64_t batch_size = 32;
  // Validation: explicit data (both defined), or the last `validation_split` of the training data.
  Tensor validation_x = {};
  Tensor validation_y = {};
  double validation_split = 0.0;  // double, as Keras computes floor(n * (1 - split)) in double
  bool shuffle = true;
  uint64_t seed = 0;  // of the shuffling
  std::map<int64_t, float> class_weight = {};  // class id -> weight; classes not listed weigh 1
  std::vector<MetricPtr> metrics = {};
  std::vector<CallbackPtr> callbacks = {};
  // 0 silent, 1 progress bar (a line per epoch when not a terminal), 2 one line per epoch.
  int verbose = 1;
  ProgressBarOptions progress = {};  // where and how the progress prints (tests capture it)
  // Validation data of a model of several inputs or outputs: one tensor per input, one per output.
  std::vector<Tensor> validation_inputs = {};
  std::vector<Tensor> validation_targets = {};
};

History fit(Layer& model, Optimizer& optimizer, const losses::Loss& loss, const Tensor& x, const Tensor& y,
            FitOptions options = {});

// The loss of one output of a graph Model (tg::Model with several outputs, or inputs): by position
// (the outputs in order), or by `output`, the name of the layer that makes it. Outputs left out
// have no loss (as Keras allows). `weight` is Keras' loss_weights; `metrics` are this output's.
struct OutputLoss {
  std::string output = "";
  const losses::Loss* loss = nullptr;
  float weight = 1.0f;
  std::vector<MetricPtr> metrics = {};
};

// Keras' fit for several inputs and outputs: x holds one tensor per model input, y one per output
// (undefined where an output has no loss). The loss is the weighted sum over the outputs (plus
// model.losses()); the logs hold "loss", "<output>_loss" per output (unweighted, as Keras) and
// "<output>_<metric>". class_weight and FitOptions::metrics are for one-output models only.
History fit(Model& model, Optimizer& optimizer, const std::vector<OutputLoss>& losses, const std::vector<Tensor>& x,
            const std::vector<Tensor>& y, FitOptions options = {});

struct EvaluateOptions {
  int64_t batch_size = 32;
  std::vector<MetricPtr> metrics = {};
};

// The loss (with model.losses()) and the metrics over x, in inference mode: {"loss", metric names...}.
Logs evaluate(Layer& model, const losses::Loss& loss, const Tensor& x, const Tensor& y, EvaluateOptions options = {});

// The model's outputs for x, batch by batch, in inference mode, concatenated along axis 0.
Tensor predict(Layer& model, const Tensor& x, int64_t batch_size = 32);

// The same for several inputs and outputs: the logs of fit's, one tensor per output.
Logs evaluate(Model& model, const std::vector<OutputLoss>& losses, const std::vector<Tensor>& x, const std::vector<Tensor>& y,
              EvaluateOptions options = {});
std::vector<Tensor> predict(Model& model, const std::vector<Tensor>& x, int64_t batch_size = 32);

}  // namespace tapegrad
