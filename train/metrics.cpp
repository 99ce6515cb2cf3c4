#include "tapegrad/train/metrics.h"

#include <algorithm>
#include <cmath>

#include "tapegrad/core/error.h"
#include "tapegrad/core/tensor_ops.h"
#include "train/class_ids.h"

namespace tapegrad::metrics {

namespace {

void require_same_shape(const Tensor& y_true, const Tensor& y_pred, const std::string& op) {
  if (y_true.shape() != y_pred.shape())
    fail(op, "y_true " + y_true.shape().str() + " and y_pred " + y_pred.shape().str() + " differ");
}

void require_rank2(const Tensor& y_pred, const std::string& op) {
  if (y_pred.rank() != 2) fail(op, "y_pred " + y_pred.shape().str() + " must be (batch, classes)");
}

// Class ids of shape (batch,) or (batch, 1) as integers in [0, classes).
std::vector<int64_t> class_ids(const Tensor& y_true, int64_t batch, int64_t classes, const std::string& op) {
  if (y_true.numel() != batch || y_true.rank() > 2 || (y_true.rank() == 2 && y_true.dim(1) != 1))
    fail(op, "y_true " + y_true.shape().str() + " must hold one class id per row of y_pred (" + std::to_string(batch) +
                 " rows)");
  return checked_class_ids(y_true, batch, classes, op);
}

// The weight of element i of a tensor with `per_sample` elements per sample.
float weight_at(const Tensor& w, int64_t i, int64_t per_sample) {
  if (!w.defined()) return 1.0f;
  if (w.numel() == 1) return w.data()[0];
  return w.data()[i / per_sample];
}

void check_weights(const Tensor& w, int64_t batch, const std::string& op) {
  if (w.defined() && w.numel() != 1 && w.numel() != batch)
    fail(op, "sample_weight " + w.shape().str() + " must be a scalar or hold one weight per sample (" +
                 std::to_string(batch) + ")");
}

}  // namespace

double sparse_categorical_accuracy(const Tensor& y_true, const Tensor& y_pred) {
  if (y_pred.rank() != 2 || y_true.numel() != y_pred.dim(0))
    fail("sparse_categorical_accuracy", "y_true " + y_true.shape().str() + " must hold one class id per row of y_pred " +
                                            y_pred.shape().str());
  if (y_pred.dim(0) == 0) return 0.0;
  const Tensor predicted = argmax(y_pred, 1);
  int64_t hits = 0;
  for (int64_t i = 0; i < predicted.numel(); ++i) hits += predicted.data()[i] == y_true.data()[i];
  return static_cast<double>(hits) / static_cast<double>(predicted.numel());
}

Tensor confusion_matrix(const Tensor& labels, const Tensor& predictions, int64_t num_classes, const Tensor& weights) {
  const std::string op = "confusion_matrix";
  if (labels.rank() != 1 || predictions.shape() != labels.shape())
    fail(op, "labels " + labels.shape().str() + " and predictions " + predictions.shape().str() +
                 " must be class ids of the same shape (n,)");
  const int64_t n = labels.numel();
  check_weights(weights, n, op);
  int64_t largest = -1;
  for (int64_t i = 0; i < n; ++i) {
    for (float v : {labels.data()[i], predictions.data()[i]}) {
      if (!(v >= 0.0f) || v != std::floor(v)) fail(op, "value " + std::to_string(v) + " at " + std::to_string(i) + " is not a class id");
      largest = std::max(largest, static_cast<int64_t>(v));
    }
  }
  if (num_classes < 0) num_classes = largest + 1;
  if (largest >= num_classes)
    fail(op, "class id " + std::to_string(largest) + " is out of range for num_classes " + std::to_string(num_classes));
  Tensor m = Tensor::zeros({num_classes, num_classes});
  for (int64_t i = 0; i < n; ++i)
    m.data()[static_cast<int64_t>(labels.data()[i]) * num_classes + static_cast<int64_t>(predictions.data()[i])] +=
        weight_at(weights, i, 1);
  return m;
}

namespace {

void check_totals(const std::string& metric, const std::vector<double>& totals, size_t expected) {
  if (totals.size() != expected)
    fail(metric + ".set_totals", "got " + std::to_string(totals.size()) + " totals, this metric has " + std::to_string(expected));
}

}  // namespace

std::vector<double> Metric::totals() const {
  fail(name(), "this metric does not say what its running sums are (override totals() and set_totals()), so it "
               "cannot be added up over the processes of a distributed job");
}

void Metric::set_totals(const std::vector<double>&) { totals(); }

void Mean::set_totals(const std::vector<double>& totals) {
  check_totals(name_, totals, 2);
  total_ = totals[0];
  weight_ = totals[1];
}

void MeanMetric::set_totals(const std::vector<double>& totals) {
  check_totals(name(), totals, 2);
  mean_.set_totals(totals);
}

void Precision::set_totals(const std::vector<double>& totals) {
  check_totals(name(), totals, 2);
  tp_ = totals[0];
  fp_ = totals[1];
}

void Recall::set_totals(const std::vector<double>& totals) {
  check_totals(name(), totals, 2);
  tp_ = totals[0];
  fn_ = totals[1];
}

std::vector<double> AUC::totals() const {
  std::vector<double> t;
  for (const auto* v : {&tp_, &fp_, &tn_, &fn_}) t.insert(t.end(), v->begin(), v->end());
  return t;
}

void AUC::set_totals(const std::vector<double>& totals) {
  const size_t n = thresholds_.size();
  check_totals(name(), totals, 4 * n);
  size_t at = 0;
  for (auto* v : {&tp_, &fp_, &tn_, &fn_}) {
    v->assign(totals.begin() + static_cast<std::ptrdiff_t>(at), totals.begin() + static_cast<std::ptrdiff_t>(at + n));
    at += n;
  }
}

void Mean::update_state(double value, double weight) {
  total_ += value * weight;
  weight_ += weight;
}

void Mean::update_state(const Tensor& values, const Tensor& sample_weight) {
  const int64_t n = values.numel();
  const int64_t batch = values.rank() > 0 ? values.dim(0) : 1;
  check_weights(sample_weight, batch, "Mean '" + name_ + "'");
  const int64_t per_sample = batch > 0 ? n / batch : 1;
  for (int64_t i = 0; i < n; ++i) update_state(values.data()[i], weight_at(sample_weight, i, per_sample));
}

void MeanMetric::update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) {
  mean_.update_state(values(y_true, y_pred), sample_weight);
}

Tensor Accuracy::values(const Tensor& y_true, const Tensor& y_pred) const {
  require_same_shape(y_true, y_pred, name());
  return equal(y_true, y_pred);
}

Tensor BinaryAccuracy::values(const Tensor& y_true, const Tensor& y_pred) const {
  require_same_shape(y_true, y_pred, name());
  return equal(y_true, greater(y_pred, Tensor::scalar(threshold_)));
}

Tensor CategoricalAccuracy::values(const Tensor& y_true, const Tensor& y_pred) const {
  require_rank2(y_pred, name());
  require_same_shape(y_true, y_pred, name());
  return equal(argmax(y_true, 1), argmax(y_pred, 1));
}

Tensor SparseCategoricalAccuracy::values(const Tensor& y_true, const Tensor& y_pred) const {
  require_rank2(y_pred, name());
  class_ids(y_true, y_pred.dim(0), y_pred.dim(1), name());
  return equal(y_true.reshape({-1}), argmax(y_pred, 1));
}

TopKCategoricalAccuracy::TopKCategoricalAccuracy(int k, bool sparse)
    : MeanMetric(sparse ? "sparse_top_k_categorical_accuracy" : "top_k_categorical_accuracy"), k_(k), sparse_(sparse) {
  if (k < 1) fail(name(), "k must be >= 1, got " + std::to_string(k));
}

Tensor TopKCategoricalAccuracy::values(const Tensor& y_true, const Tensor& y_pred) const {
  require_rank2(y_pred, name());
  const int64_t batch = y_pred.dim(0), classes = y_pred.dim(1);
  std::vector<int64_t> ids;
  if (sparse_) {
    ids = class_ids(y_true, batch, classes, name());
  } else {
    require_same_shape(y_true, y_pred, name());
    const Tensor a = argmax(y_true, 1);
    for (int64_t i = 0; i < batch; ++i) ids.push_back(static_cast<int64_t>(a.data()[i]));
  }
  Tensor out = Tensor::empty({batch});
  for (int64_t i = 0; i < batch; ++i) {
    const float* row = y_pred.data() + i * classes;
    const float target = row[ids[static_cast<size_t>(i)]];
    // In the top k unless k or more classes score strictly higher (ties count as in).
    const int64_t higher = std::count_if(row, row + classes, [target](float v) { return v > target; });
    out.data()[i] = higher < k_ ? 1.0f : 0.0f;
  }
  return out;
}

Tensor MeanAbsoluteError::values(const Tensor& y_true, const Tensor& y_pred) const {
  require_same_shape(y_true, y_pred, name());
  return abs(sub(y_pred, y_true));
}

Tensor MeanSquaredError::values(const Tensor& y_true, const Tensor& y_pred) const {
  require_same_shape(y_true, y_pred, name());
  const Tensor e = sub(y_pred, y_true);
  return mul(e, e);
}

namespace {
// Calls f(is_positive_label, predicted_value, weight) for every element.
template <class F>
void for_each_element(const Tensor& y_true, const Tensor& y_pred, const Tensor& w, const std::string& op, F f) {
  require_same_shape(y_true, y_pred, op);
  const int64_t n = y_pred.numel(), batch = y_pred.rank() > 0 ? y_pred.dim(0) : 1;
  check_weights(w, batch, op);
  const int64_t per_sample = batch > 0 ? n / batch : 1;
  for (int64_t i = 0; i < n; ++i) f(y_true.data()[i] > 0.5f, y_pred.data()[i], weight_at(w, i, per_sample));
}
double ratio(double a, double b) { return b > 0.0 ? a / b : 0.0; }
}  // namespace

void Precision::update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& w) {
  for_each_element(y_true, y_pred, w, name(), [&](bool positive, float p, float weight) {
    if (p > threshold_) (positive ? tp_ : fp_) += weight;
  });
}
double Precision::result() const { return ratio(tp_, tp_ + fp_); }

void Recall::update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& w) {
  for_each_element(y_true, y_pred, w, name(), [&](bool positive, float p, float weight) {
    if (positive) (p > threshold_ ? tp_ : fn_) += weight;
  });
}
double Recall::result() const { return ratio(tp_, tp_ + fn_); }

AUC::AUC(int num_thresholds, Curve curve) : Metric(curve == Curve::ROC ? "auc" : "pr_auc"), curve_(curve) {
  if (num_thresholds < 2) fail("AUC", "num_thresholds must be >= 2, got " + std::to_string(num_thresholds));
  const double eps = 1e-7;
  thresholds_.push_back(-eps);
  for (int i = 1; i < num_thresholds - 1; ++i) thresholds_.push_back(static_cast<double>(i) / (num_thresholds - 1));
  thresholds_.push_back(1.0 + eps);
  reset();
}

void AUC::reset() {
  const size_t n = thresholds_.size();
  tp_.assign(n, 0.0), fp_.assign(n, 0.0), tn_.assign(n, 0.0), fn_.assign(n, 0.0);
}

void AUC::update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& w) {
  for_each_element(y_true, y_pred, w, name(), [&](bool positive, float p, float weight) {
    for (size_t k = 0; k < thresholds_.size(); ++k) {
      const bool predicted = p > thresholds_[k];
      if (positive)
        (predicted ? tp_[k] : fn_[k]) += weight;
      else
        (predicted ? fp_[k] : tn_[k]) += weight;
    }
  });
}

double AUC::result() const {
  const size_t n = thresholds_.size();
  double area = 0.0;
  if (curve_ == Curve::ROC) {
    for (size_t k = 0; k + 1 < n; ++k) {
      const double x0 = ratio(fp_[k], fp_[k] + tn_[k]), x1 = ratio(fp_[k + 1], fp_[k + 1] + tn_[k + 1]);
      const double y0 = ratio(tp_[k], tp_[k] + fn_[k]), y1 = ratio(tp_[k + 1], tp_[k + 1] + fn_[k + 1]);
      area += (x0 - x1) * (y0 + y1) / 2.0;
    }
    return area;
  }
  // Keras' interpolate_pr_auc: precision interpolated linearly in the number of positives.
  for (size_t k = 0; k + 1 < n; ++k) {
    const double dtp = tp_[k] - tp_[k + 1];
    const double p0 = tp_[k] + fp_[k], p1 = tp_[k + 1] + fp_[k + 1];
    const double slope = ratio(dtp, std::max(p0 - p1, 0.0));
    const double intercept = tp_[k + 1] - slope * p1;
    const double p_ratio = (p0 > 0.0 && p1 > 0.0) ? ratio(p0, std::max(p1, 0.0)) : 1.0;
    area += ratio(slope * (dtp + intercept * std::log(p_ratio)), std::max(tp_[k + 1] + fn_[k + 1], 0.0));
  }
  return area;
}

}  // namespace tapegrad::metrics
