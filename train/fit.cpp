#include "tapegrad/train/fit.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad {

namespace {

void check_pair(const Tensor& x, const Tensor& y, const char* op, const char* what) {
  if (!x.defined() || !y.defined() || x.rank() == 0 || y.rank() == 0)
    fail(op, std::string(what) + " x and y must be defined tensors with a batch dim");
  if (x.dim(0) != y.dim(0))
    fail(op, std::string(what) + " x " + x.shape().str() + " and y " + y.shape().str() + " hold " + std::to_string(x.dim(0)) +
                 " and " + std::to_string(y.dim(0)) + " samples; they must match");
}

void check_batch_size(int64_t batch_size, const char* op) {
  if (batch_size < 1) fail(op, "batch_size must be >= 1, got " + std::to_string(batch_size));
}

std::vector<int64_t> range(int64_t begin, int64_t end) {
  std::vector<int64_t> r(static_cast<size_t>(std::max<int64_t>(end - begin, 0)));
  std::iota(r.begin(), r.end(), begin);
  return r;
}

// Per-sample weights from class weights: y holds class ids ((n,) or (n, 1)) or one-hot rows.
Tensor class_weights_for(const Tensor& y, const std::map<int64_t, float>& class_weight) {
  const int64_t n = y.dim(0);
  const Tensor ids = (y.rank() == 2 && y.dim(1) > 1) ? argmax(y, 1) : y.reshape({n});
  Tensor w = Tensor::empty({n});
  for (int64_t i = 0; i < n; ++i) {
    const auto it = class_weight.find(static_cast<int64_t>(ids.data()[i]));
    w.data()[i] = it == class_weight.end() ? 1.0f : it->second;
  }
  return w;
}

// The weight regularizers' penalties. Their gradients are the optimizer's gradient hooks, so they
// are not on the tape; the reported loss adds their value, as Keras reports it.
double weight_penalty(const Layer& model) {
  double total = 0.0;
  for (const auto& p : model.parameters())
    if (p->regularizer) total += p->regularizer->value(p->var.value());
  return total;
}

// Loss and metrics over (x, y) in inference mode, batch by batch; the loss mean is weighted by
// batch size, as Keras' loss tracker.
Logs run_evaluation(Layer& model, const losses::Loss& loss, const Tensor& x, const Tensor& y, int64_t batch_size,
                    const std::vector<MetricPtr>& metric_list) {
  NoGradGuard no_grad;
  metrics::Mean loss_mean("loss");
  for (const auto& m : metric_list) m->reset();
  const int64_t n = x.dim(0);
  for (int64_t start = 0; start < n; start += batch_size) {
    const auto idx = range(start, std::min(n, start + batch_size));
    const Tensor xb = take_rows(x, idx), yb = take_rows(y, idx);
    const Variable pred = model(Variable(xb), /*training=*/false);
    const Variable total = loss(yb, pred) + model.losses();
    loss_mean.update_state(total.item() + weight_penalty(model), static_cast<double>(idx.size()));
    for (const auto& m : metric_list) m->update_state(yb, pred.value());
  }
  Logs logs;
  logs.set("loss", loss_mean.result());
  for (const auto& m : metric_list) logs.set(m->name(), m->result());
  return logs;
}

}  // namespace

History fit(Layer& model, Optimizer& optimizer, const losses::Loss& loss, const Tensor& x, const Tensor& y,
            FitOptions options) {
  const char* op = "fit";
  check_pair(x, y, op, "training");
  if (x.rank() < 1 || x.dim(0) == 0)
    fail(op, "x " + x.shape().str() + " holds no samples; there is nothing to train on (Keras raises too)");
  check_batch_size(options.batch_size, op);
  if (options.epochs < 0) fail(op, "epochs must be >= 0, got " + std::to_string(options.epochs));
  if (!(options.validation_split >= 0.0 && options.validation_split < 1.0))
    fail(op, "validation_split must be in [0, 1), got " + std::to_string(options.validation_split));
  const bool explicit_validation = options.validation_x.defined() || options.validation_y.defined();
  if (explicit_validation && options.validation_split > 0.0)
    fail(op, "give validation data or a validation_split, not both");

  // Split before shuffling: the last fraction validates, as Keras.
  Tensor train_x = x, train_y = y, val_x, val_y;
  if (explicit_validation) {
    check_pair(options.validation_x, options.validation_y, op, "validation");
    if (options.validation_x.dim(0) == 0) fail(op, "validation_x " + options.validation_x.shape().str() + " holds no samples");
    val_x = options.validation_x, val_y = options.validation_y;
  } else if (options.validation_split > 0.0) {
    const int64_t n = x.dim(0);
    // Keras: floor(n * (1 - split)). A split written as a float (0.3f = 0.30000001) would lose a
    // sample to rounding, so values within 1e-6 relative of an integer count as that integer.
    double keep = static_cast<double>(n) * (1.0 - options.validation_split);
    if (std::fabs(keep - std::round(keep)) <= 1e-6 * static_cast<double>(n)) keep = std::round(keep);
    const int64_t split_at = static_cast<int64_t>(std::floor(keep));
    if (split_at <= 0 || split_at >= n)
      fail(op, "validation_split " + std::to_string(options.validation_split) + " of " + std::to_string(n) +
                   " samples leaves an empty training or validation set");
    train_x = take_rows(x, range(0, split_at)), train_y = take_rows(y, range(0, split_at));
    val_x = take_rows(x, range(split_at, n)), val_y = take_rows(y, range(split_at, n));
  }
  const bool validate = val_x.defined();

  const int64_t n = train_x.dim(0);
  FitContext context{&model, &optimizer, options.epochs, (n + options.batch_size - 1) / options.batch_size, n, false};
  std::vector<CallbackPtr> callbacks;
  if (options.verbose > 0) {  // first, as Keras: it prints before the other callbacks act
    ProgressBarOptions progress = options.progress;
    progress.per_epoch_only = progress.per_epoch_only || options.verbose == 2;
    callbacks.push_back(std::make_shared<ProgressBar>(progress));
  }
  for (const auto& c : options.callbacks) {
    if (!c) fail(op, "a callback is null");
    callbacks.push_back(c);
  }
  for (const auto& c : callbacks) c->set_context(&context);

  History history;
  Rng rng(options.seed);
  std::vector<int64_t> order = range(0, n);
  metrics::Mean loss_mean("loss");
  Logs train_logs;
  for (const auto& c : callbacks) c->on_train_begin(train_logs);
  for (int epoch = 0; epoch < options.epochs && !context.stop_training; ++epoch) {
    Logs epoch_logs;
    for (const auto& c : callbacks) c->on_epoch_begin(epoch, epoch_logs);
    if (options.shuffle)
      for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[rng.uniform_int(static_cast<uint64_t>(i + 1))]);
    loss_mean.reset();
    for (const auto& m : options.metrics) m->reset();
    Logs logs;
    for (int64_t step = 0; step < context.steps_per_epoch; ++step) {
      Logs begin_logs;
      for (const auto& c : callbacks) c->on_batch_begin(step, begin_logs);
      const int64_t start = step * options.batch_size, end = std::min(n, start + options.batch_size);
      const std::vector<int64_t> idx(order.begin() + start, order.begin() + end);
      const Tensor xb = take_rows(train_x, idx), yb = take_rows(train_y, idx);
      const Tensor weights = options.class_weight.empty() ? Tensor() : class_weights_for(yb, options.class_weight);
      const Variable pred = model(Variable(xb), /*training=*/true);
      const Variable total = loss(yb, pred, weights) + model.losses();
      const double reported = total.item() + weight_penalty(model);  // at the weights of this forward pass
      optimizer.zero_grad();
      total.backward();
      optimizer.step();
      loss_mean.update_state(reported, static_cast<double>(idx.size()));
      for (const auto& m : options.metrics) m->update_state(yb, pred.value());
      logs = Logs();
      logs.set("loss", loss_mean.result());
      for (const auto& m : options.metrics) logs.set(m->name(), m->result());
      for (const auto& c : callbacks) c->on_batch_end(step, logs);
      if (context.stop_training) break;
    }
    if (validate) {
      const Logs val = run_evaluation(model, loss, val_x, val_y, options.batch_size, options.metrics);
      for (const auto& [k, v] : val.items()) logs.set("val_" + k, v);
    }
    for (const auto& c : callbacks) c->on_epoch_end(epoch, logs);
    history.append(epoch, logs);
  }
  for (const auto& c : callbacks) c->on_train_end(train_logs);
  return history;
}

Logs evaluate(Layer& model, const losses::Loss& loss, const Tensor& x, const Tensor& y, EvaluateOptions options) {
  check_pair(x, y, "evaluate", "evaluation");
  check_batch_size(options.batch_size, "evaluate");
  return run_evaluation(model, loss, x, y, options.batch_size, options.metrics);
}

Tensor predict(Layer& model, const Tensor& x, int64_t batch_size) {
  check_batch_size(batch_size, "predict");
  if (!x.defined() || x.rank() == 0) fail("predict", "x must be a defined tensor with a batch dim");
  NoGradGuard no_grad;
  std::vector<Tensor> parts;
  const int64_t n = x.dim(0);
  for (int64_t start = 0; start < n; start += batch_size)
    parts.push_back(model(Variable(take_rows(x, range(start, std::min(n, start + batch_size)))), false).value());
  if (parts.empty()) fail("predict", "x " + x.shape().str() + " holds no samples");
  return parts.size() == 1 ? parts[0] : concat(parts, 0);
}

}  // namespace tapegrad
