// Stateful metrics against the values of Keras' docstrings and hand-computed cases, including
// accumulation across batches, sample weights and reset; the confusion matrix.
#include <gtest/gtest.h>

#include "../error_matchers.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/train/metrics.h"

namespace tg = tapegrad;
namespace M = tapegrad::metrics;
using tg::Tensor;

namespace {
Tensor t(std::initializer_list<int64_t> shape, std::initializer_list<float> v) { return Tensor::from(tg::Shape(shape), v); }
}  // namespace

TEST(Metrics, AccuracyFamilyMatchesKerasDocstrings) {
  M::Accuracy acc;
  acc.update_state(t({4, 1}, {1, 2, 3, 4}), t({4, 1}, {0, 2, 3, 4}));
  EXPECT_DOUBLE_EQ(acc.result(), 0.75);
  acc.reset();
  acc.update_state(t({4, 1}, {1, 2, 3, 4}), t({4, 1}, {0, 2, 3, 4}), t({4}, {1, 1, 0, 0}));
  EXPECT_DOUBLE_EQ(acc.result(), 0.5);

  M::BinaryAccuracy bin;
  bin.update_state(t({4, 1}, {1, 1, 0, 0}), t({4, 1}, {0.98f, 1, 0, 0.6f}));
  EXPECT_DOUBLE_EQ(bin.result(), 0.75);
  bin.reset();
  bin.update_state(t({4, 1}, {1, 1, 0, 0}), t({4, 1}, {0.98f, 1, 0, 0.6f}), t({4}, {1, 0, 0, 1}));
  EXPECT_DOUBLE_EQ(bin.result(), 0.5);

  const Tensor pred = t({2, 3}, {0.1f, 0.9f, 0.8f, 0.05f, 0.95f, 0});
  const Tensor onehot = t({2, 3}, {0, 0, 1, 0, 1, 0}), ids = t({2, 1}, {2, 1}), w = t({2}, {0.7f, 0.3f});
  M::CategoricalAccuracy cat;
  cat.update_state(onehot, pred);
  EXPECT_DOUBLE_EQ(cat.result(), 0.5);
  cat.reset();
  cat.update_state(onehot, pred, w);
  EXPECT_NEAR(cat.result(), 0.3, 1e-7);
  M::SparseCategoricalAccuracy sparse;
  sparse.update_state(ids, pred);
  EXPECT_DOUBLE_EQ(sparse.result(), 0.5);
  sparse.reset();
  sparse.update_state(ids, pred, w);
  EXPECT_NEAR(sparse.result(), 0.3, 1e-7);
  M::TopKCategoricalAccuracy top1(1), top2(2), sparse_top1(1, true);
  top1.update_state(onehot, pred, w);
  EXPECT_NEAR(top1.result(), 0.3, 1e-7);
  top2.update_state(onehot, pred);
  EXPECT_DOUBLE_EQ(top2.result(), 1.0);
  sparse_top1.update_state(t({2}, {2, 1}), pred);
  EXPECT_DOUBLE_EQ(sparse_top1.result(), 0.5);
  EXPECT_EQ(sparse_top1.name(), "sparse_top_k_categorical_accuracy");
}

TEST(Metrics, AccumulateAcrossBatchesAsOverTheWhole) {
  M::SparseCategoricalAccuracy acc;
  acc.update_state(t({2}, {0, 1}), t({2, 2}, {0.9f, 0.1f, 0.8f, 0.2f}));  // 1 of 2
  acc.update_state(t({3}, {1, 1, 0}), t({3, 2}, {0.1f, 0.9f, 0.3f, 0.7f, 0.6f, 0.4f}));  // 3 of 3
  EXPECT_DOUBLE_EQ(acc.result(), 4.0 / 5.0);
  M::MeanSquaredError mse;
  mse.update_state(t({1, 2}, {0, 0}), t({1, 2}, {1, 1}));
  mse.update_state(t({1, 2}, {0, 0}), t({1, 2}, {3, 3}));
  EXPECT_DOUBLE_EQ(mse.result(), 5.0);
  mse.reset();
  EXPECT_DOUBLE_EQ(mse.result(), 0.0);
  M::Precision precision;
  precision.update_state(t({2}, {0, 1}), t({2}, {1, 0}));
  precision.update_state(t({2}, {1, 1}), t({2}, {1, 1}));
  EXPECT_NEAR(precision.result(), 2.0 / 3.0, 1e-12);
}

TEST(Metrics, RegressionMetricsAndMean) {
  M::MeanAbsoluteError mae;
  M::MeanSquaredError mse;
  const Tensor yt = t({2, 2}, {0, 1, 0, 0}), yp = t({2, 2}, {1, 1, 0, 0});
  mae.update_state(yt, yp);
  mse.update_state(yt, yp);
  EXPECT_DOUBLE_EQ(mae.result(), 0.25);
  EXPECT_DOUBLE_EQ(mse.result(), 0.25);
  mae.reset();
  mae.update_state(yt, yp, t({2}, {1, 0}));
  EXPECT_DOUBLE_EQ(mae.result(), 0.5);
  M::Mean mean;
  mean.update_state(t({4}, {1, 3, 5, 7}));
  EXPECT_DOUBLE_EQ(mean.result(), 4.0);
  mean.reset();
  mean.update_state(t({4}, {1, 3, 5, 7}), t({4}, {1, 1, 0, 0}));
  EXPECT_DOUBLE_EQ(mean.result(), 2.0);
  mean.update_state(10.0, 2.0);
  EXPECT_DOUBLE_EQ(mean.result(), (4.0 + 20.0) / 4.0);
}

TEST(Metrics, PrecisionRecallAndAUCMatchKerasDocstrings) {
  M::Precision p;
  M::Recall r;
  p.update_state(t({4}, {0, 1, 1, 1}), t({4}, {1, 0, 1, 1}));
  r.update_state(t({4}, {0, 1, 1, 1}), t({4}, {1, 0, 1, 1}));
  EXPECT_NEAR(p.result(), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(r.result(), 2.0 / 3.0, 1e-12);
  p.reset();
  r.reset();
  p.update_state(t({4}, {0, 1, 1, 1}), t({4}, {1, 0, 1, 1}), t({4}, {0, 0, 1, 0}));
  r.update_state(t({4}, {0, 1, 1, 1}), t({4}, {1, 0, 1, 1}), t({4}, {0, 0, 1, 0}));
  EXPECT_DOUBLE_EQ(p.result(), 1.0);
  EXPECT_DOUBLE_EQ(r.result(), 1.0);
  EXPECT_DOUBLE_EQ(M::Precision().result(), 0.0) << "no predictions yet: 0, not NaN";

  M::AUC auc(3);
  auc.update_state(t({4}, {0, 0, 1, 1}), t({4}, {0, 0.5f, 0.3f, 0.9f}));
  EXPECT_NEAR(auc.result(), 0.75, 1e-12);
  auc.reset();
  auc.update_state(t({4}, {0, 0, 1, 1}), t({4}, {0, 0.5f, 0.3f, 0.9f}), t({4}, {1, 0, 0, 1}));
  EXPECT_NEAR(auc.result(), 1.0, 1e-12);
  // Many thresholds: a perfect ranking gives 1, a reversed one 0, across two batches.
  M::AUC fine(200), reversed(200);
  fine.update_state(t({3}, {0, 0, 1}), t({3}, {0.1f, 0.2f, 0.8f}));
  fine.update_state(t({2}, {1, 0}), t({2}, {0.9f, 0.3f}));
  EXPECT_NEAR(fine.result(), 1.0, 1e-9);
  reversed.update_state(t({4}, {1, 1, 0, 0}), t({4}, {0.1f, 0.2f, 0.8f, 0.9f}));
  EXPECT_NEAR(reversed.result(), 0.0, 1e-9);
  // PR AUC of a perfect ranking is 1 too.
  M::AUC pr(200, M::AUC::Curve::PR);
  pr.update_state(t({4}, {0, 0, 1, 1}), t({4}, {0.1f, 0.2f, 0.8f, 0.9f}));
  EXPECT_NEAR(pr.result(), 1.0, 1e-6);
}

TEST(Metrics, ConfusionMatrix) {
  const Tensor m = M::confusion_matrix(t({3}, {1, 2, 4}), t({3}, {2, 2, 4}));
  ASSERT_EQ(m.shape(), (tg::Shape{5, 5}));
  EXPECT_EQ(m.at({1, 2}), 1.0f);
  EXPECT_EQ(m.at({2, 2}), 1.0f);
  EXPECT_EQ(m.at({4, 4}), 1.0f);
  EXPECT_EQ(tg::sum_all(m), 3.0);
  const Tensor w = M::confusion_matrix(t({2}, {0, 0}), t({2}, {1, 1}), 3, t({2}, {0.5f, 2.0f}));
  EXPECT_EQ(w.shape(), (tg::Shape{3, 3}));
  EXPECT_FLOAT_EQ(w.at({0, 1}), 2.5f);
}

TEST(Metrics, BadInputsAreClearErrors) {
  M::CategoricalAccuracy cat;
  EXPECT_ERROR(cat.update_state(Tensor::ones({2, 4}), Tensor::ones({2, 3})), {"categorical_accuracy", "(2, 4)", "(2, 3)"});
  M::SparseCategoricalAccuracy sparse;
  EXPECT_ERROR(sparse.update_state(t({2}, {0, 5}), Tensor::ones({2, 3})), {"sparse_categorical_accuracy", "label 5", "[0, 3)"});
  M::MeanSquaredError mse;
  EXPECT_ERROR(mse.update_state(Tensor::ones({2, 2}), Tensor::ones({2, 2}), Tensor::ones({3})),
               {"sample_weight (3,)", "one weight per sample (2)"});
  EXPECT_ERROR(M::confusion_matrix(t({2}, {0, 3}), t({2}, {0, 1}), 2), {"confusion_matrix", "class id 3", "num_classes 2"});
  EXPECT_ERROR(M::TopKCategoricalAccuracy(0), {"top_k_categorical_accuracy", "k must be >= 1"});
  EXPECT_ERROR(M::AUC(1), {"AUC", "num_thresholds"});
}
