#include "tapegrad/train/fit.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <set>
#include <tuple>

#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/distributed/distributed.h"

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

// One model output that has a loss: its position among the outputs, the prefix of its log keys
// ("" for a model of one output: "loss" and the metrics' own names; "<output>_" otherwise), its
// loss, weight and metrics.
struct Head {
  size_t output = 0;
  std::string prefix;
  const losses::Loss* loss = nullptr;
  float weight = 1.0f;
  std::vector<MetricPtr> metrics;
};

// What fit and evaluate train or measure: the model, how to run it on a list of inputs, and the
// heads.
struct Problem {
  Layer* model = nullptr;
  std::function<std::vector<Variable>(const std::vector<Variable>&, bool)> forward;
  std::vector<Head> heads;
  bool several = false;  // several outputs (or inputs): per-output log keys
};

std::vector<Tensor> rows_of(const std::vector<Tensor>& tensors, const std::vector<int64_t>& idx) {
  std::vector<Tensor> out;
  for (const Tensor& t : tensors) out.push_back(t.defined() ? take_rows(t, idx) : Tensor());
  return out;
}

std::vector<Variable> as_variables(const std::vector<Tensor>& tensors) {
  std::vector<Variable> out;
  for (const Tensor& t : tensors) out.emplace_back(t);
  return out;
}

// The running means of an epoch (or an evaluation): the total loss and each head's, weighted by
// batch size as Keras' loss trackers.
class Trackers {
 public:
  explicit Trackers(const Problem& p) : problem_(p), heads_(p.heads.size(), metrics::Mean("loss")) {}
  void reset() {
    total_.reset();
    for (auto& h : heads_) h.reset();
    for (const Head& h : problem_.heads)
      for (const auto& m : h.metrics) m->reset();
  }
  // One batch: the losses and the predictions it made for targets yb.
  void update(double total, const std::vector<double>& head_losses, const std::vector<Tensor>& yb,
              const std::vector<Variable>& preds, double batch) {
    total_.update_state(total, batch);
    for (size_t i = 0; i < heads_.size(); ++i) {
      const Head& h = problem_.heads[i];
      heads_[i].update_state(head_losses[i], batch);
      for (const auto& m : h.metrics) m->update_state(yb[h.output], preds[h.output].value());
    }
  }
  Logs logs() const {
    if (distributed::size() > 1) return logs_over_ranks();
    Logs logs;
    logs.set("loss", total_.result());
    if (problem_.several)
      for (size_t i = 0; i < heads_.size(); ++i) logs.set(problem_.heads[i].prefix + "loss", heads_[i].result());
    for (const Head& h : problem_.heads)
      for (const auto& m : h.metrics) logs.set(h.prefix + m->name(), m->result());
    return logs;
  }

 private:
  // In a distributed job each rank measured its rows of every batch: the logs are read from the
  // running sums added up over the ranks (the same on every rank), and each rank keeps its own.
  Logs logs_over_ranks() const {
    std::vector<std::vector<double>> parts{total_.totals()};
    for (const auto& h : heads_) parts.push_back(h.totals());
    for (const Head& h : problem_.heads)
      for (const auto& m : h.metrics) parts.push_back(m->totals());
    std::vector<double> flat;
    for (const auto& part : parts) flat.insert(flat.end(), part.begin(), part.end());
    distributed::sum(flat);
    size_t at = 0;
    auto summed = [&](size_t k) {
      std::vector<double> out(flat.begin() + static_cast<std::ptrdiff_t>(at), flat.begin() + static_cast<std::ptrdiff_t>(at + k));
      at += k;
      return out;
    };
    auto mean_of = [&](const std::vector<double>& t) { return t[1] > 0.0 ? t[0] / t[1] : 0.0; };
    Logs logs;
    logs.set("loss", mean_of(summed(2)));
    for (size_t i = 0; i < heads_.size(); ++i) {
      const double head = mean_of(summed(2));
      if (problem_.several) logs.set(problem_.heads[i].prefix + "loss", head);
    }
    size_t part = 1 + heads_.size();
    for (const Head& h : problem_.heads)
      for (const auto& m : h.metrics) {
        const std::vector<double> own = parts[part++];
        m->set_totals(summed(own.size()));
        logs.set(h.prefix + m->name(), m->result());
        m->set_totals(own);
      }
    return logs;
  }

  const Problem& problem_;
  metrics::Mean total_{"loss"};
  std::vector<metrics::Mean> heads_;
};

// A batch's loss: the heads' weighted sum plus model.losses(); each head's own value goes to
// head_losses.
Variable batch_loss(const Problem& p, const std::vector<Tensor>& yb, const std::vector<Variable>& preds,
                    const Tensor& sample_weights, std::vector<double>& head_losses) {
  head_losses.clear();
  Variable total;
  for (const Head& h : p.heads) {
    const Variable l = (*h.loss)(yb[h.output], preds[h.output], sample_weights);
    head_losses.push_back(l.item());
    const Variable weighted = h.weight == 1.0f ? l : mul(l, h.weight);
    total = total.defined() ? add(total, weighted) : weighted;
  }
  return total + p.model->losses();
}

void check_lists(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const char* op, const char* what) {
  for (size_t i = 0; i < x.size(); ++i) {
    if (!x[i].defined() || x[i].rank() == 0)
      fail(op, std::string(what) + " input " + std::to_string(i) + " must be a defined tensor with a batch dim");
    if (x[i].dim(0) != x[0].dim(0))
      fail(op, std::string(what) + " inputs 0 " + x[0].shape().str() + " and " + std::to_string(i) + " " +
                   x[i].shape().str() + " hold different numbers of samples");
  }
  for (size_t i = 0; i < y.size(); ++i)
    if (y[i].defined() && (y[i].rank() == 0 || y[i].dim(0) != x[0].dim(0)))
      fail(op, std::string(what) + " target " + std::to_string(i) + " " + y[i].shape().str() + " must hold " +
                   std::to_string(x[0].dim(0)) + " samples, as the inputs");
}

// This rank's rows of a batch of m rows in a distributed job (all of them for one process), as
// DataLoader's shards split a batch.
std::pair<int64_t, int64_t> rank_rows(int64_t m) { return distributed::data_shard().rows(m); }

// Loss and metrics over (x, y) in inference mode, batch by batch. In a distributed job each rank
// takes its slice of the rows (every rank all of them when there are fewer rows than ranks: the
// sums over the ranks then count each row once per rank, which leaves every mean as it is).
Logs run_evaluation(const Problem& p, const std::vector<Tensor>& x, const std::vector<Tensor>& y, int64_t batch_size) {
  NoGradGuard no_grad;
  Trackers trackers(p);
  trackers.reset();
  std::vector<double> head_losses;
  int64_t first = 0, n = x[0].dim(0);
  if (n >= distributed::size()) std::tie(first, n) = rank_rows(n);
  for (int64_t start = first; start < n; start += batch_size) {
    const auto idx = range(start, std::min(n, start + batch_size));
    const std::vector<Tensor> xb = rows_of(x, idx), yb = rows_of(y, idx);
    const std::vector<Variable> preds = p.forward(as_variables(xb), /*training=*/false);
    const Variable total = batch_loss(p, yb, preds, Tensor(), head_losses);
    trackers.update(total.item() + weight_penalty(*p.model), head_losses, yb, preds, static_cast<double>(idx.size()));
  }
  return trackers.logs();
}

History run_fit(const Problem& p, Optimizer& optimizer, const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                const FitOptions& options, const std::vector<Tensor>& validation_x, const std::vector<Tensor>& validation_y) {
  const char* op = "fit";
  check_lists(x, y, op, "training");
  if (x[0].dim(0) == 0)
    fail(op, "x " + x[0].shape().str() + " holds no samples; there is nothing to train on (Keras raises too)");
  check_batch_size(options.batch_size, op);
  if (options.epochs < 0) fail(op, "epochs must be >= 0, got " + std::to_string(options.epochs));
  if (!(options.validation_split >= 0.0 && options.validation_split < 1.0))
    fail(op, "validation_split must be in [0, 1), got " + std::to_string(options.validation_split));
  const bool explicit_validation = !validation_x.empty();
  if (explicit_validation && options.validation_split > 0.0)
    fail(op, "give validation data or a validation_split, not both");

  // Split before shuffling: the last fraction validates, as Keras.
  std::vector<Tensor> train_x = x, train_y = y, val_x, val_y;
  if (explicit_validation) {
    check_lists(validation_x, validation_y, op, "validation");
    if (validation_x[0].dim(0) == 0) fail(op, "validation_x " + validation_x[0].shape().str() + " holds no samples");
    val_x = validation_x, val_y = validation_y;
  } else if (options.validation_split > 0.0) {
    const int64_t n = x[0].dim(0);
    // Keras: floor(n * (1 - split)). A split written as a float (0.3f = 0.30000001) would lose a
    // sample to rounding, so values within 1e-6 relative of an integer count as that integer.
    double keep = static_cast<double>(n) * (1.0 - options.validation_split);
    if (std::fabs(keep - std::round(keep)) <= 1e-6 * static_cast<double>(n)) keep = std::round(keep);
    const int64_t split_at = static_cast<int64_t>(std::floor(keep));
    if (split_at <= 0 || split_at >= n)
      fail(op, "validation_split " + std::to_string(options.validation_split) + " of " + std::to_string(n) +
                   " samples leaves an empty training or validation set");
    train_x = rows_of(x, range(0, split_at)), train_y = rows_of(y, range(0, split_at));
    val_x = rows_of(x, range(split_at, n)), val_y = rows_of(y, range(split_at, n));
  }
  const bool validate = !val_x.empty();

  const int64_t n = train_x[0].dim(0);
  // Data parallel in a distributed job, as Keras' MirroredStrategy: batch_size is the batch of
  // the whole job, each rank trains on its rows of it, the gradients are averaged, and every
  // rank starts from rank 0's weights.
  const int ranks = distributed::size();
  std::unique_ptr<distributed::GradientAverager> averager;
  if (ranks > 1) {
    // The averaged gradient is the whole batch's when each rank's loss is a mean over its rows.
    for (const Head& h : p.heads)
      if (h.loss->reduction() != losses::Reduction::sum_over_batch_size)
        fail(op, "the loss '" + h.loss->name() + "' reduces by " + losses::to_string(h.loss->reduction()) +
                     "; data-parallel fit averages the ranks' gradients, which is right only for sum_over_batch_size");
    const int64_t last = n % options.batch_size;
    if (options.batch_size < ranks || (last != 0 && last < ranks))
      fail(op, "batches of " + std::to_string(options.batch_size) + " of " + std::to_string(n) + " samples " +
                   (options.batch_size < ranks ? std::string("are") : "end with a batch of " + std::to_string(last) + ", which is") +
                   " smaller than the " + std::to_string(ranks) + " processes: some process would get no rows");
    distributed::broadcast_parameters(*p.model);
    averager = std::make_unique<distributed::GradientAverager>(*p.model);
  }
  FitContext context{p.model, &optimizer, options.epochs, (n + options.batch_size - 1) / options.batch_size, n, false};
  std::vector<CallbackPtr> callbacks;
  if (options.verbose > 0 && distributed::is_root()) {  // first, as Keras: it prints before the other callbacks act
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
  Trackers trackers(p);
  std::vector<double> head_losses;
  Logs train_logs;
  for (const auto& c : callbacks) c->on_train_begin(train_logs);
  for (int epoch = 0; epoch < options.epochs && !context.stop_training; ++epoch) {
    Logs epoch_logs;
    for (const auto& c : callbacks) c->on_epoch_begin(epoch, epoch_logs);
    if (options.shuffle)
      for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[rng.uniform_int(static_cast<uint64_t>(i + 1))]);
    trackers.reset();
    Logs logs;
    for (int64_t step = 0; step < context.steps_per_epoch; ++step) {
      Logs begin_logs;
      for (const auto& c : callbacks) c->on_batch_begin(step, begin_logs);
      const int64_t start = step * options.batch_size, end = std::min(n, start + options.batch_size);
      const auto [lo, hi] = rank_rows(end - start);
      const std::vector<int64_t> idx(order.begin() + start + lo, order.begin() + start + hi);
      const std::vector<Tensor> xb = rows_of(train_x, idx), yb = rows_of(train_y, idx);
      const Tensor weights = options.class_weight.empty() ? Tensor() : class_weights_for(yb[0], options.class_weight);
      const std::vector<Variable> preds = p.forward(as_variables(xb), /*training=*/true);
      const Variable total = batch_loss(p, yb, preds, weights, head_losses);
      const double reported = total.item() + weight_penalty(*p.model);  // at the weights of this forward pass
      optimizer.zero_grad();
      total.backward();
      if (averager) averager->average(static_cast<int64_t>(idx.size()));
      optimizer.step();
      trackers.update(reported, head_losses, yb, preds, static_cast<double>(idx.size()));
      logs = trackers.logs();
      for (const auto& c : callbacks) c->on_batch_end(step, logs);
      if (context.stop_training) break;
    }
    if (validate) {
      const Logs val = run_evaluation(p, val_x, val_y, options.batch_size);
      for (const auto& [k, v] : val.items()) logs.set("val_" + k, v);
    }
    for (const auto& c : callbacks) c->on_epoch_end(epoch, logs);
    history.append(epoch, logs);
  }
  for (const auto& c : callbacks) c->on_train_end(train_logs);
  return history;
}

Problem one_output_problem(Layer& model, const losses::Loss& loss, const std::vector<MetricPtr>& metrics) {
  Problem p;
  p.model = &model;
  p.forward = [&model](const std::vector<Variable>& xs, bool training) { return std::vector<Variable>{model(xs[0], training)}; };
  p.heads.push_back({0, "", &loss, 1.0f, metrics});
  return p;
}

// The heads of a graph model from its OutputLosses: by position or by output name.
Problem graph_problem(Model& model, const std::vector<OutputLoss>& output_losses, const char* op) {
  Problem p;
  p.model = &model;
  p.forward = [&model](const std::vector<Variable>& xs, bool training) { return model(xs, training); };
  p.several = true;
  std::vector<std::string> names;  // the outputs' layer names, made unique as Keras does
  for (const auto& o : model.outputs()) {
    std::string name = o.node().layer->name();
    for (int k = 1; std::find(names.begin(), names.end(), name) != names.end(); ++k) name = o.node().layer->name() + "_" + std::to_string(k);
    names.push_back(name);
  }
  auto known = [&] {
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
    return s;
  };
  if (output_losses.empty()) fail(op, "needs a loss for at least one output of " + model.name() + " (outputs: " + known() + ")");
  const bool by_name = !output_losses[0].output.empty();
  if (!by_name && output_losses.size() != names.size())
    fail(op, std::to_string(output_losses.size()) + " losses for the " + std::to_string(names.size()) +
                 " outputs of " + model.name() + " (" + known() + "): give one per output, or name the outputs");
  std::vector<bool> taken(names.size(), false);
  for (size_t i = 0; i < output_losses.size(); ++i) {
    const OutputLoss& o = output_losses[i];
    if (o.output.empty() == by_name) fail(op, "name every output's loss (.output = \"...\") or none");
    if (!o.loss) fail(op, "the loss for output " + (by_name ? "'" + o.output + "'" : std::to_string(i)) + " is null");
    size_t at = i;
    if (by_name) {
      at = static_cast<size_t>(std::find(names.begin(), names.end(), o.output) - names.begin());
      if (at == names.size()) fail(op, model.name() + " has no output '" + o.output + "'; its outputs are " + known());
    }
    if (taken[at]) fail(op, "output '" + names[at] + "' has two losses");
    taken[at] = true;
    p.heads.push_back({at, names[at] + "_", o.loss, o.weight, o.metrics});
  }
  // A metric keeps state: one object on two outputs would mix their figures.
  std::set<const metrics::Metric*> metric_objects;
  for (const Head& h : p.heads)
    for (const auto& m : h.metrics)
      if (!m || !metric_objects.insert(m.get()).second)
        fail(op, "output '" + h.prefix.substr(0, h.prefix.size() - 1) + "': a metric is null or also given to another output; " +
                     "give each output metric objects of its own");
  // Keras lists the outputs' losses in the model's output order.
  std::sort(p.heads.begin(), p.heads.end(), [](const Head& a, const Head& b) { return a.output < b.output; });
  return p;
}

void check_graph_data(const Model& model, const Problem& p, const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                      const char* op) {
  if (x.size() != model.inputs().size())
    fail(op, model.name() + " has " + std::to_string(model.inputs().size()) + " inputs, x holds " + std::to_string(x.size()));
  if (y.size() != model.outputs().size())
    fail(op, model.name() + " has " + std::to_string(model.outputs().size()) + " outputs, y holds " + std::to_string(y.size()) +
                 " targets (one per output; undefined where an output has no loss)");
  for (const Head& h : p.heads)
    if (!y[h.output].defined()) fail(op, "output '" + h.prefix.substr(0, h.prefix.size() - 1) + "' has a loss but no target");
}

}  // namespace

History fit(Layer& model, Optimizer& optimizer, const losses::Loss& loss, const Tensor& x, const Tensor& y,
            FitOptions options) {
  check_pair(x, y, "fit", "training");
  if (!options.validation_inputs.empty() || !options.validation_targets.empty())
    fail("fit", "validation_inputs/validation_targets are for models of several inputs or outputs; use validation_x/validation_y");
  const bool explicit_validation = options.validation_x.defined() || options.validation_y.defined();
  if (explicit_validation) check_pair(options.validation_x, options.validation_y, "fit", "validation");
  const Problem p = one_output_problem(model, loss, options.metrics);
  return run_fit(p, optimizer, {x}, {y}, options, explicit_validation ? std::vector<Tensor>{options.validation_x} : std::vector<Tensor>{},
                 explicit_validation ? std::vector<Tensor>{options.validation_y} : std::vector<Tensor>{});
}

History fit(Model& model, Optimizer& optimizer, const std::vector<OutputLoss>& losses, const std::vector<Tensor>& x,
            const std::vector<Tensor>& y, FitOptions options) {
  const char* op = "fit";
  const Problem p = graph_problem(model, losses, op);
  check_graph_data(model, p, x, y, op);
  if (!options.metrics.empty()) fail(op, "a model of several outputs takes its metrics per output (OutputLoss::metrics)");
  if (!options.class_weight.empty()) fail(op, "class_weight is only supported for models of one output (as Keras)");
  if (options.validation_x.defined() || options.validation_y.defined())
    fail(op, "validation data of a model of several inputs or outputs goes in validation_inputs/validation_targets");
  if (!options.validation_inputs.empty()) check_graph_data(model, p, options.validation_inputs, options.validation_targets, op);
  return run_fit(p, optimizer, x, y, options, options.validation_inputs, options.validation_targets);
}

Logs evaluate(Layer& model, const losses::Loss& loss, const Tensor& x, const Tensor& y, EvaluateOptions options) {
  check_pair(x, y, "evaluate", "evaluation");
  check_batch_size(options.batch_size, "evaluate");
  return run_evaluation(one_output_problem(model, loss, options.metrics), {x}, {y}, options.batch_size);
}

Logs evaluate(Model& model, const std::vector<OutputLoss>& losses, const std::vector<Tensor>& x, const std::vector<Tensor>& y,
              EvaluateOptions options) {
  const char* op = "evaluate";
  check_batch_size(options.batch_size, op);
  const Problem p = graph_problem(model, losses, op);
  check_graph_data(model, p, x, y, op);
  check_lists(x, y, op, "evaluation");
  if (!options.metrics.empty()) fail(op, "a model of several outputs takes its metrics per output (OutputLoss::metrics)");
  return run_evaluation(p, x, y, options.batch_size);
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

std::vector<Tensor> predict(Model& model, const std::vector<Tensor>& x, int64_t batch_size) {
  check_batch_size(batch_size, "predict");
  if (x.size() != model.inputs().size())
    fail("predict", model.name() + " has " + std::to_string(model.inputs().size()) + " inputs, x holds " + std::to_string(x.size()));
  check_lists(x, {}, "predict", "prediction");
  NoGradGuard no_grad;
  const int64_t n = x[0].dim(0);
  if (n == 0) fail("predict", "x " + x[0].shape().str() + " holds no samples");
  std::vector<std::vector<Tensor>> parts(model.outputs().size());
  for (int64_t start = 0; start < n; start += batch_size) {
    const std::vector<Variable> ys = model(as_variables(rows_of(x, range(start, std::min(n, start + batch_size)))), false);
    for (size_t o = 0; o < ys.size(); ++o) parts[o].push_back(ys[o].value());
  }
  std::vector<Tensor> out;
  for (auto& p : parts) out.push_back(p.size() == 1 ? p[0] : concat(p, 0));
  return out;
}

}  // namespace tapegrad
