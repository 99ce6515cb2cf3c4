// Metrics' running sums (totals / set_totals), which a distributed job adds up over the ranks: a
// metric updated on two halves of the data, its totals summed, gives what it gives on all of it;
// a metric that does not say what its sums are is refused by name.
#include <gtest/gtest.h>

#include "../error_matchers.h"
#include "tapegrad/train/metrics.h"

namespace tg = tapegrad;
namespace M = tapegrad::metrics;
using tg::Tensor;

namespace {

using MetricFactory = std::function<std::shared_ptr<M::Metric>()>;

// Half of the rows of t: the first (lo = 0) or the second.
Tensor half(const Tensor& t, bool second) {
  const int64_t n = t.dim(0) / 2, row = t.numel() / t.dim(0);
  std::vector<int64_t> dims = t.shape().to_vector();
  dims[0] = n;
  const float* from = t.data() + (second ? n * row : 0);
  return Tensor::from(tg::Shape(dims), std::vector<float>(from, from + n * row));
}

void expect_halves_sum_to_whole(const MetricFactory& make, const Tensor& y_true, const Tensor& y_pred) {
  auto whole = make(), first = make(), second = make(), merged = make();
  whole->update_state(y_true, y_pred);
  first->update_state(half(y_true, false), half(y_pred, false));
  second->update_state(half(y_true, true), half(y_pred, true));
  std::vector<double> sum = first->totals();
  const std::vector<double> other = second->totals();
  ASSERT_EQ(sum.size(), other.size());
  for (size_t i = 0; i < sum.size(); ++i) sum[i] += other[i];
  merged->set_totals(sum);
  EXPECT_NEAR(merged->result(), whole->result(), 1e-12) << whole->name();
  EXPECT_NE(make()->result(), whole->result()) << whole->name() << ": a set_totals that did nothing would fail";
  EXPECT_TG_ERROR(merged->set_totals({1.0}), whole->name(), "1 totals");
}

}  // namespace

TEST(MetricTotals, TheSumsOfTwoHalvesGiveTheMetricOfTheWhole) {
  const Tensor ids = Tensor::from({8}, {0, 1, 2, 1, 0, 2, 2, 1});
  const Tensor logits = Tensor::from({8, 3}, {3, 1, 0, 0, 2, 1, 1, 0, 2, 2, 1, 0, 1, 0, 0, 0, 3, 1, 1, 0, 2, 0, 0, 1});
  expect_halves_sum_to_whole([] { return std::make_shared<M::SparseCategoricalAccuracy>(); }, ids, logits);
  expect_halves_sum_to_whole([] { return std::make_shared<M::TopKCategoricalAccuracy>(2, true); }, ids, logits);
  const Tensor labels = Tensor::from({8, 1}, {1, 0, 1, 1, 0, 0, 1, 0});
  const Tensor scores = Tensor::from({8, 1}, {0.9f, 0.2f, 0.4f, 0.8f, 0.6f, 0.1f, 0.7f, 0.3f});
  expect_halves_sum_to_whole([] { return std::make_shared<M::BinaryAccuracy>(); }, labels, scores);
  expect_halves_sum_to_whole([] { return std::make_shared<M::Precision>(); }, labels, scores);
  expect_halves_sum_to_whole([] { return std::make_shared<M::Recall>(); }, labels, scores);
  expect_halves_sum_to_whole([] { return std::make_shared<M::AUC>(50); }, labels, scores);
  expect_halves_sum_to_whole([] { return std::make_shared<M::AUC>(50, M::AUC::Curve::PR); }, labels, scores);
  expect_halves_sum_to_whole([] { return std::make_shared<M::MeanSquaredError>(); }, labels, scores);
}

TEST(MetricTotals, AMetricWithoutTotalsSaysItCannotBeAddedUpOverProcesses) {
  struct Last : M::Metric {
    Last() : Metric("last_value") {}
    void update_state(const Tensor&, const Tensor& y_pred, const Tensor&) override { value = y_pred.data()[0]; }
    double result() const override { return value; }
    void reset() override { value = 0; }
    double value = 0;
  } last;
  EXPECT_TG_ERROR(last.totals(), "last_value", "totals()", "distributed");
  EXPECT_TG_ERROR(last.set_totals({1.0}), "last_value", "distributed");
}
