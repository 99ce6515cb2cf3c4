// Losses against Keras' float32 values (tests/data/losses.json), as functions and as objects;
// their gradients (gradcheck); reductions and sample weights; extreme inputs; errors.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "../error_matchers.h"
#include "../json_data.h"
#include "tapegrad/autograd/gradcheck.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/train/loss.h"
#include "tapegrad/train/losses.h"

namespace tg = tapegrad;
namespace L = tapegrad::losses;
using tg::Tensor;
using tg::Variable;

namespace {

L::CrossEntropyOptions ce_options(const nlohmann::json& kw) {
  L::CrossEntropyOptions o;
  if (kw.contains("from_logits")) o.from_logits = kw["from_logits"];
  if (kw.contains("label_smoothing")) o.label_smoothing = kw["label_smoothing"].get<float>();
  return o;
}

// The loss object of a case, built from its Keras class name and kwargs.
L::Loss make_object(const nlohmann::json& c, L::Reduction r) {
  const std::string k = c["keras_class"];
  const auto& kw = c["kwargs"];
  if (k == "MeanSquaredError") return L::MeanSquaredError(r);
  if (k == "MeanAbsoluteError") return L::MeanAbsoluteError(r);
  if (k == "MeanAbsolutePercentageError") return L::MeanAbsolutePercentageError(r);
  if (k == "MeanSquaredLogarithmicError") return L::MeanSquaredLogarithmicError(r);
  if (k == "Huber") return L::Huber(kw["delta"].get<float>(), r);
  if (k == "LogCosh") return L::LogCosh(r);
  if (k == "BinaryCrossentropy") return L::BinaryCrossentropy(ce_options(kw), r);
  if (k == "CategoricalCrossentropy") return L::CategoricalCrossentropy(ce_options(kw), r);
  if (k == "SparseCategoricalCrossentropy") return L::SparseCategoricalCrossentropy(ce_options(kw), r);
  if (k == "KLDivergence") return L::KLDivergence(r);
  if (k == "Poisson") return L::Poisson(r);
  if (k == "Hinge") return L::Hinge(r);
  if (k == "SquaredHinge") return L::SquaredHinge(r);
  if (k == "CategoricalHinge") return L::CategoricalHinge(r);
  if (k == "CosineSimilarity") return L::CosineSimilarity(r);
  throw std::runtime_error("unknown loss class " + k);
}

// The loss function of a case, called by name.
Variable call_function(const nlohmann::json& c, const Tensor& t, const Variable& p) {
  const std::string f = c["loss"];
  const auto& kw = c["kwargs"];
  if (f == "mean_squared_error") return L::mean_squared_error(t, p);
  if (f == "mean_absolute_error") return L::mean_absolute_error(t, p);
  if (f == "mean_absolute_percentage_error") return L::mean_absolute_percentage_error(t, p);
  if (f == "mean_squared_logarithmic_error") return L::mean_squared_logarithmic_error(t, p);
  if (f == "huber") return L::huber(t, p, kw["delta"].get<float>());
  if (f == "log_cosh") return L::log_cosh(t, p);
  if (f == "binary_crossentropy") return L::binary_crossentropy(t, p, ce_options(kw));
  if (f == "categorical_crossentropy") return L::categorical_crossentropy(t, p, ce_options(kw));
  if (f == "sparse_categorical_crossentropy") return L::sparse_categorical_crossentropy(t, p, ce_options(kw));
  if (f == "kl_divergence") return L::kl_divergence(t, p);
  if (f == "poisson") return L::poisson(t, p);
  if (f == "hinge") return L::hinge(t, p);
  if (f == "squared_hinge") return L::squared_hinge(t, p);
  if (f == "categorical_hinge") return L::categorical_hinge(t, p);
  if (f == "cosine_similarity") return L::cosine_similarity(t, p);
  throw std::runtime_error("unknown loss " + f);
}

double tol(double want) { return 1e-6 + 1e-5 * std::fabs(want); }

}  // namespace

TEST(Losses, EveryReferenceCaseMatchesKerasFloat32) {
  const auto data = tg::testing::load_json("losses.json");
  std::set<std::string> losses;
  int checked = 0;
  for (const auto& c : data["cases"]) {
    SCOPED_TRACE(c["loss"].get<std::string>() + "/" + c["name"].get<std::string>());
    const Tensor t = tg::testing::to_tensor(c["y_true"]);
    const Variable p(tg::testing::to_tensor(c["y_pred"]), true);
    const double want = c["reduced_float32"].get<double>();

    const Variable by_function = call_function(c, t, p);
    EXPECT_NEAR(by_function.item(), want, tol(want));
    by_function.backward();
    for (float g : p.grad().to_vector()) EXPECT_TRUE(std::isfinite(g)) << "gradient must stay finite";

    const Variable by_object = make_object(c, L::Reduction::sum_over_batch_size)(t, p);
    EXPECT_NEAR(by_object.item(), want, tol(want));

    // Per sample (reduction none) and summed.
    const Variable per_sample = make_object(c, L::Reduction::none)(t, p);
    const auto& want_rows = c["per_sample_float32"];
    ASSERT_EQ(per_sample.numel(), static_cast<int64_t>(want_rows.size()));
    for (size_t i = 0; i < want_rows.size(); ++i)
      EXPECT_NEAR(per_sample.value().to_vector()[i], want_rows[i].get<double>(), tol(want_rows[i].get<double>()))
          << "sample " << i;
    const double sum_want = want * static_cast<double>(want_rows.size());
    EXPECT_NEAR(make_object(c, L::Reduction::sum)(t, p).item(), sum_want, tol(sum_want));
    losses.insert(c["loss"].get<std::string>());
    ++checked;
  }
  EXPECT_EQ(checked, 45);
  EXPECT_EQ(losses.size(), 15u);
}

TEST(Losses, GradientsMatchFiniteDifferences) {
  tg::Rng rng(7);
  // Inputs away from every kink (|e| = delta, hinge margins, clip bounds, zero errors).
  const Tensor target = Tensor::randn({4, 3}, rng);
  const Tensor logits = Tensor::randn({4, 3}, rng);
  const Tensor probs = Tensor::rand({4, 3}, rng, 0.1f, 0.9f);
  const Tensor positive_target = Tensor::rand({4, 3}, rng, 0.5f, 3.0f);
  const Tensor positive_pred = Tensor::rand({4, 3}, rng, 0.5f, 3.0f);
  const Tensor onehot = Tensor::from({4, 3}, {1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1});
  const Tensor binary = Tensor::from({4, 3}, {1, 0, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1});
  const Tensor soft = tg::div(positive_target, tg::sum(positive_target, {1}, true));
  const Tensor ids = Tensor::from({4}, {0, 2, 1, 2});
  const Tensor far_pred = tg::mul(tg::sub(binary, 0.5f * Tensor::ones({4, 3})), 0.4f);  // margins 0.8 / 1.2, never 0
  auto check = [](const std::string& name, const tg::GradcheckFn& f, const Tensor& x) {
    const auto r = tg::gradcheck(f, {x});
    EXPECT_TRUE(r.ok) << name << ": " << r.report;
  };
  const L::Reduce weighted{.sample_weight = Tensor::from({4}, {1.0f, 0.5f, 2.0f, 0.0f})};
  check("mse", [&](const auto& v) { return L::mean_squared_error(target, v[0], weighted); }, logits);
  // Every error at least 0.5 away from MAE's kink at 0.
  const Tensor shifted = tg::add(logits, tg::mul(Tensor::rand({4, 3}, rng, 0.5f, 1.0f), tg::sub(binary, 0.5f * Tensor::ones({4, 3})) * 2.0f));
  check("mae", [&](const auto& v) { return L::mean_absolute_error(shifted, v[0]); }, logits);
  check("mape", [&](const auto& v) { return L::mean_absolute_percentage_error(positive_target, v[0]); }, positive_pred);
  check("msle", [&](const auto& v) { return L::mean_squared_logarithmic_error(positive_target, v[0]); }, positive_pred);
  check("huber", [&](const auto& v) { return L::huber(target, v[0], 0.7f); }, logits);
  check("log_cosh", [&](const auto& v) { return L::log_cosh(target, v[0]); }, logits);
  check("poisson", [&](const auto& v) { return L::poisson(positive_target, v[0]); }, positive_pred);
  check("bce logits", [&](const auto& v) { return L::binary_crossentropy(binary, v[0], {.from_logits = true, .label_smoothing = 0.1f}); }, logits);
  check("bce probs", [&](const auto& v) { return L::binary_crossentropy(binary, v[0], {.label_smoothing = 0.2f}); }, probs);
  check("cce logits", [&](const auto& v) { return L::categorical_crossentropy(onehot, v[0], {.from_logits = true}); }, logits);
  check("cce probs", [&](const auto& v) { return L::categorical_crossentropy(onehot, v[0]); }, probs);
  check("cce smoothing", [&](const auto& v) {
    return L::categorical_crossentropy(onehot, v[0], {.from_logits = true, .label_smoothing = 0.2f});
  }, logits);
  check("scce logits", [&](const auto& v) { return L::sparse_categorical_crossentropy(ids, v[0], {.from_logits = true}, weighted); }, logits);
  check("scce probs", [&](const auto& v) { return L::sparse_categorical_crossentropy(ids, v[0]); }, probs);
  check("kl", [&](const auto& v) { return L::kl_divergence(soft, v[0]); }, probs);
  check("hinge", [&](const auto& v) { return L::hinge(binary, v[0]); }, far_pred);
  check("squared_hinge", [&](const auto& v) { return L::squared_hinge(binary, v[0]); }, far_pred);
  check("categorical_hinge", [&](const auto& v) { return L::categorical_hinge(onehot, v[0]); }, probs);
  check("cosine", [&](const auto& v) { return L::cosine_similarity(target, v[0]); }, logits);
}

TEST(Losses, NoNaNAtLogitsOfPlusMinus1e4) {
  const Tensor big = Tensor::from({2, 3}, {1e4f, 0.0f, -1e4f, -1e4f, 1e4f, 1e4f});
  const Tensor onehot = Tensor::from({2, 3}, {0, 0, 1, 1, 0, 0});
  const Tensor binary = Tensor::from({2, 3}, {1, 1, 0, 0, 1, 0});
  std::vector<std::function<Variable(const Variable&)>> losses = {
      [&](const Variable& v) { return L::binary_crossentropy(binary, v, {.from_logits = true}); },
      [&](const Variable& v) { return L::binary_crossentropy(binary, v, {.from_logits = true, .label_smoothing = 0.1f}); },
      [&](const Variable& v) { return L::categorical_crossentropy(onehot, v, {.from_logits = true}); },
      [&](const Variable& v) { return L::categorical_crossentropy(onehot, v, {.from_logits = true, .label_smoothing = 0.1f}); },
      [&](const Variable& v) { return L::sparse_categorical_crossentropy(Tensor::from({2}, {2, 0}), v, {.from_logits = true}); },
      [&](const Variable& v) { return L::log_cosh(onehot, v); },
      [&](const Variable& v) { return L::huber(onehot, v); },
      [&](const Variable& v) { return L::cosine_similarity(onehot, v); }};
  for (size_t i = 0; i < losses.size(); ++i) {
    const Variable x(big, true);
    const Variable l = losses[i](x);
    EXPECT_TRUE(std::isfinite(l.item())) << "loss " << i;
    l.backward();
    for (float g : x.grad().to_vector()) EXPECT_TRUE(std::isfinite(g)) << "loss " << i;
  }
  // Sample 0 is wrong by 2e4, sample 1 right: SCCE mean 1e4, gradient (softmax - onehot) / batch.
  const Variable logits(Tensor::from({2, 3}, {1e4f, 0.0f, -1e4f, -1e4f, 1e4f, 0.0f}), true);
  const Variable l = L::sparse_categorical_crossentropy(Tensor::from({2}, {2, 1}), logits, {.from_logits = true});
  EXPECT_NEAR(l.item(), 1e4f, 1.0f);
  l.backward();
  EXPECT_NEAR(logits.grad().at({0, 0}), 0.5f, 1e-6);
  EXPECT_NEAR(logits.grad().at({0, 2}), -0.5f, 1e-6);
  EXPECT_NEAR(logits.grad().at({1, 1}), 0.0f, 1e-6);
}

TEST(Losses, ReductionsAndSampleWeightsFollowKeras) {
  const Tensor t = Tensor::from({3, 2}, {0, 0, 0, 0, 0, 0});
  const Variable p(Tensor::from({3, 2}, {1, 1, 2, 2, 3, 3}));  // per-sample MSE 1, 4, 9
  EXPECT_FLOAT_EQ(L::mean_squared_error(t, p).item(), 14.0f / 3.0f);
  EXPECT_FLOAT_EQ(L::mean_squared_error(t, p, {.reduction = L::Reduction::sum}).item(), 14.0f);
  EXPECT_EQ(L::mean_squared_error(t, p, {.reduction = L::Reduction::none}).value().to_vector(),
            (std::vector<float>{1, 4, 9}));
  // Weighted: sum(w * l) / number of samples (not / sum of weights), as Keras.
  const Tensor w = Tensor::from({3}, {1.0f, 0.5f, 0.0f});
  EXPECT_FLOAT_EQ(L::mean_squared_error(t, p, {.sample_weight = w}).item(), 3.0f / 3.0f);
  EXPECT_FLOAT_EQ(L::mean_squared_error(t, p, {.sample_weight = w.reshape({3, 1})}).item(), 1.0f);
  EXPECT_FLOAT_EQ(L::mean_squared_error(t, p, {.sample_weight = Tensor::scalar(2.0f)}).item(), 28.0f / 3.0f);
  EXPECT_EQ(L::mean_squared_error(t, p, {.reduction = L::Reduction::none, .sample_weight = w}).value().to_vector(),
            (std::vector<float>{1, 2, 0}));
  L::MeanSquaredError object(L::Reduction::sum);
  EXPECT_FLOAT_EQ(object(t, p, w).item(), 3.0f);
  EXPECT_EQ(object.name(), "mean_squared_error");
  // Rank 3: per-sample values are (batch, steps); a (batch,) weight covers every step.
  const Variable p3(Tensor::ones({2, 2, 3}));
  const Variable none3 = L::mean_absolute_error(Tensor::zeros({2, 2, 3}), p3, {.reduction = L::Reduction::none});
  EXPECT_EQ(none3.shape(), (tg::Shape{2, 2}));
  EXPECT_FLOAT_EQ(L::mean_absolute_error(Tensor::zeros({2, 2, 3}), p3, {.sample_weight = Tensor::from({2}, {1, 0})}).item(), 0.5f);
  // An empty batch: 0, not NaN.
  EXPECT_EQ(L::mean_squared_error(Tensor::zeros({0, 2}), Variable(Tensor::zeros({0, 2}))).item(), 0.0f);
  // A user's function as a loss object.
  const L::Loss custom = L::make_loss("double_mse", [](const Tensor& yt, const Variable& yp, const L::Reduce& r) {
    return L::mean_squared_error(yt, yp, r) * 2.0f;
  });
  EXPECT_FLOAT_EQ(custom(t, p).item(), 28.0f / 3.0f);
}

TEST(Losses, BadInputsAreClearErrors) {
  const Variable pred(Tensor::ones({2, 3}));
  EXPECT_ERROR(L::mean_squared_error(Tensor::ones({3, 2}), pred), {"mean_squared_error", "(3, 2)", "(2, 3)"});
  EXPECT_ERROR(L::hinge(Tensor::ones({2, 2}), pred), {"hinge", "(2, 2)", "(2, 3)"});
  EXPECT_ERROR(L::categorical_crossentropy(Tensor::ones({2, 4}), pred), {"categorical_crossentropy", "(2, 4)"});
  EXPECT_ERROR(L::sparse_categorical_crossentropy(Tensor::from({2}, {0, 3}), pred),
               {"sparse_categorical_crossentropy", "label 3", "[0, 3)"});
  EXPECT_ERROR(L::sparse_categorical_crossentropy(Tensor::from({2}, {0, 0.5f}), pred), {"label 0.5"});
  EXPECT_ERROR(L::sparse_categorical_crossentropy(Tensor::ones({3}), pred), {"(3,)", "(2,)"});
  EXPECT_ERROR(L::sparse_categorical_crossentropy(Tensor::ones({2}), Variable(Tensor::ones({2, 3, 1}))),
               {"(2, 3, 1)", "(batch, classes)"});
  EXPECT_ERROR(L::sparse_categorical_crossentropy(Tensor::ones({2}), pred, {.label_smoothing = 0.1f}), {"label_smoothing"});
  EXPECT_ERROR(L::binary_crossentropy(Tensor::ones({2, 3}), pred, {.label_smoothing = 1.5f}),
               {"binary_crossentropy", "label_smoothing", "[0, 1]"});
  EXPECT_ERROR(L::huber(Tensor::ones({2, 3}), pred, -1.0f), {"huber", "delta", "> 0"});
  EXPECT_ERROR(L::mean_squared_error(Tensor::ones({2, 3}), pred, {.sample_weight = Tensor::ones({3})}),
               {"mean_squared_error", "sample_weight (3,)", "(2,)"});
}
