#pragma once
// Metrics (Keras' keras.metrics): stateful objects that accumulate over batches,
//   update_state(y_true, y_pred [, sample_weight]) ... result() ... reset()
// plus the whole-tensor function sparse_categorical_accuracy() and confusion_matrix().
// Predictions are plain tensors (no tape). Sample weights: undefined (all 1), or one per sample.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tapegrad::metrics {

// Fraction of rows of y_pred (batch, classes) whose argmax equals the class id in y_true.
double sparse_categorical_accuracy(const Tensor& y_true, const Tensor& y_pred);

// tf.math.confusion_matrix: entry (i, j) counts (or sums the weights of) samples with label i and
// prediction j; both are class ids of shape (n,). num_classes < 0: 1 + the largest id seen.
Tensor confusion_matrix(const Tensor& labels, const Tensor& predictions, int64_t num_classes = -1,
                        const Tensor& weights = {});

class Metric {
 public:
  explicit Metric(std::string name) : name_(std::move(name)) {}
  virtual ~Metric() = default;
  virtual void update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight = {}) = 0;
  virtual double result() const = 0;
  virtual void reset() = 0;
  // The running sums result() is computed from, every one additive: data-parallel training adds
  // them up over the processes, each of which measured its part of the batches, and reads the
  // result from the sums. A metric of one's own overrides both to be usable there; the default
  // says it cannot be.
  virtual std::vector<double> totals() const;
  virtual void set_totals(const std::vector<double>& totals);
  // The key in a History / progress line: "accuracy", "precision", ...
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

// A weighted running mean of values: sum(w * v) / sum(w) (0 before any update). Keras' Mean; fit
// uses it for the loss.
class Mean {
 public:
  explicit Mean(std::string name = "mean") : name_(std::move(name)) {}
  void update_state(double value, double weight = 1.0);
  // Every element of `values`, with one weight per element or per sample (values' first dim).
  void update_state(const Tensor& values, const Tensor& sample_weight = {});
  double result() const { return weight_ > 0.0 ? total_ / weight_ : 0.0; }
  void reset() { total_ = weight_ = 0.0; }
  const std::string& name() const { return name_; }
  std::vector<double> totals() const { return {total_, weight_}; }
  void set_totals(const std::vector<double>& totals);

 private:
  std::string name_;
  double total_ = 0.0, weight_ = 0.0;
};

// Base of the metrics that average a value per sample (Keras' MeanMetricWrapper).
class MeanMetric : public Metric {
 public:
  using Metric::Metric;
  void update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight = {}) override;
  double result() const override { return mean_.result(); }
  void reset() override { mean_.reset(); }
  std::vector<double> totals() const override { return mean_.totals(); }
  void set_totals(const std::vector<double>& totals) override;

 protected:
  // One value per sample (batch,) or per element of each sample (batch, k).
  virtual Tensor values(const Tensor& y_true, const Tensor& y_pred) const = 0;

 private:
  Mean mean_;
};

// Fraction of elements where y_pred == y_true exactly (Keras' Accuracy).
class Accuracy : public MeanMetric {
 public:
  Accuracy() : MeanMetric("accuracy") {}
 protected:
  Tensor values(const Tensor& y_true, const Tensor& y_pred) const override;
};

// Fraction of elements where (y_pred > threshold) == y_true.
class BinaryAccuracy : public MeanMetric {
 public:
  explicit BinaryAccuracy(float threshold = 0.5f) : MeanMetric("binary_accuracy"), threshold_(threshold) {}
 protected:
  Tensor values(const Tensor& y_true, const Tensor& y_pred) const override;
 private:
  float threshold_;
};

// argmax(y_true) == argmax(y_pred), per sample (one-hot targets).
class CategoricalAccuracy : public MeanMetric {
 public:
  CategoricalAccuracy() : MeanMetric("categorical_accuracy") {}
 protected:
  Tensor values(const Tensor& y_true, const Tensor& y_pred) const override;
};

// y_true (class ids) == argmax(y_pred), per sample.
class SparseCategoricalAccuracy : public MeanMetric {
 public:
  SparseCategoricalAccuracy() : MeanMetric("sparse_categorical_accuracy") {}
 protected:
  Tensor values(const Tensor& y_true, const Tensor& y_pred) const override;
};

// Whether the target class is among the k largest predictions (ties at the boundary count as
// in, as tf.math.in_top_k). Targets one-hot, or class ids with sparse = true.
class TopKCategoricalAccuracy : public MeanMetric {
 public:
  explicit TopKCategoricalAccuracy(int k = 5, bool sparse = false);
 protected:
  Tensor values(const Tensor& y_true, const Tensor& y_pred) const override;
 private:
  int k_;
  bool sparse_;
};

class MeanAbsoluteError : public MeanMetric {
 public:
  MeanAbsoluteError() : MeanMetric("mean_absolute_error") {}
 protected:
  Tensor values(const Tensor& y_true, const Tensor& y_pred) const override;
};

class MeanSquaredError : public MeanMetric {
 public:
  MeanSquaredError() : MeanMetric("mean_squared_error") {}
 protected:
  Tensor values(const Tensor& y_true, const Tensor& y_pred) const override;
};

// Binary precision / recall over every element: a prediction is positive when > threshold.
// tp / (tp + fp) and tp / (tp + fn); 0 when the denominator is 0.
class Precision : public Metric {
 public:
  explicit Precision(float threshold = 0.5f) : Metric("precision"), threshold_(threshold) {}
  void update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight = {}) override;
  double result() const override;
  void reset() override { tp_ = fp_ = 0.0; }
  std::vector<double> totals() const override { return {tp_, fp_}; }
  void set_totals(const std::vector<double>& totals) override;
 private:
  float threshold_;
  double tp_ = 0.0, fp_ = 0.0;
};

class Recall : public Metric {
 public:
  explicit Recall(float threshold = 0.5f) : Metric("recall"), threshold_(threshold) {}
  void update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight = {}) override;
  double result() const override;
  void reset() override { tp_ = fn_ = 0.0; }
  std::vector<double> totals() const override { return {tp_, fn_}; }
  void set_totals(const std::vector<double>& totals) override;
 private:
  float threshold_;
  double tp_ = 0.0, fn_ = 0.0;
};

// Keras' AUC: confusion counts at num_thresholds thresholds (0 - 1e-7, i / (n - 1), 1 + 1e-7);
// ROC by the trapezoidal rule, PR by Davis & Goadrich's interpolation (Keras' interpolate_pr_auc).
class AUC : public Metric {
 public:
  enum class Curve { ROC, PR };
  explicit AUC(int num_thresholds = 200, Curve curve = Curve::ROC);
  void update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight = {}) override;
  double result() const override;
  void reset() override;
  std::vector<double> totals() const override;  // tp, fp, tn, fn at each threshold
  void set_totals(const std::vector<double>& totals) override;
 private:
  Curve curve_;
  std::vector<double> thresholds_, tp_, fp_, tn_, fn_;
};

}  // namespace tapegrad::metrics
