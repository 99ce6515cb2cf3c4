// Losses against Keras' float32 values (tests/data/losses.json), their gradients, and errors.
#include <gtest/gtest.h>

#include <cmath>

#include "../error_matchers.h"
#include "../json_data.h"
#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "core/rng.h"
#include "core/tensor_ops.h"
#include "train/losses.h"

namespace tg = tapegrad;
using tg::Tensor;
using tg::Variable;

namespace {

Variable compute(const nlohmann::json& c, const Variable& y_pred) {
  const Tensor y_true = tg::testing::to_tensor(c["y_true"]);
  const std::string loss = c["loss"];
  tg::losses::CrossEntropyOptions o;
  if (c["kwargs"].contains("from_logits")) o.from_logits = c["kwargs"]["from_logits"];
  if (c["kwargs"].contains("label_smoothing")) o.label_smoothing = c["kwargs"]["label_smoothing"].get<float>();
  if (loss == "mean_squared_error") return tg::losses::mean_squared_error(y_true, y_pred);
  if (loss == "categorical_crossentropy") return tg::losses::categorical_crossentropy(y_true, y_pred, o);
  return tg::losses::sparse_categorical_crossentropy(y_true, y_pred, o);
}

}  // namespace

TEST(Losses, MatchKerasReferenceValues) {
  const auto data = tg::testing::load_json("losses.json");
  int checked = 0;
  for (const auto& c : data["cases"]) {
    const std::string loss = c["loss"];
    if (loss != "mean_squared_error" && loss != "categorical_crossentropy" && loss != "sparse_categorical_crossentropy")
      continue;
    SCOPED_TRACE(loss + "/" + c["name"].get<std::string>());
    const Variable y_pred(tg::testing::to_tensor(c["y_pred"]), true);
    const Variable l = compute(c, y_pred);
    const double want = c["reduced_float32"].get<double>();
    EXPECT_NEAR(l.item(), want, 1e-6 + 1e-5 * std::fabs(want));
    l.backward();
    for (float g : y_pred.grad().to_vector()) EXPECT_TRUE(std::isfinite(g)) << "gradient must stay finite";
    ++checked;
  }
  EXPECT_EQ(checked, 13) << "every MSE / CCE / SCCE case of losses.json";
}

TEST(Losses, GradientsMatchFiniteDifferences) {
  tg::Rng rng(7);
  const Tensor logits = Tensor::randn({4, 3}, rng);
  const Tensor probs = tg::add(Tensor::rand({4, 3}, rng, 0.1f, 1.0f), 0.0f);
  const Tensor onehot = Tensor::from({4, 3}, {1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1});
  const Tensor ids = Tensor::from({4}, {0, 2, 1, 2});
  const Tensor target = Tensor::randn({4, 3}, rng);
  auto check = [](const tg::GradcheckFn& f, const Tensor& x) {
    const auto r = tg::gradcheck(f, {x});
    EXPECT_TRUE(r.ok) << r.report;
  };
  check([&](const auto& v) { return tg::losses::mean_squared_error(target, v[0]); }, logits);
  check([&](const auto& v) { return tg::losses::categorical_crossentropy(onehot, v[0], {.from_logits = true}); }, logits);
  check([&](const auto& v) { return tg::losses::categorical_crossentropy(onehot, v[0]); }, probs);
  check([&](const auto& v) {
    return tg::losses::categorical_crossentropy(onehot, v[0], {.from_logits = true, .label_smoothing = 0.2f});
  }, logits);
  check([&](const auto& v) { return tg::losses::sparse_categorical_crossentropy(ids, v[0], {.from_logits = true}); }, logits);
  check([&](const auto& v) { return tg::losses::sparse_categorical_crossentropy(ids, v[0]); }, probs);
}

TEST(Losses, SparseFromLogitsIsStableForHugeLogits) {
  const Variable logits(Tensor::from({2, 3}, {1e4f, 0.0f, -1e4f, -1e4f, 1e4f, 0.0f}), true);
  const Variable l = tg::losses::sparse_categorical_crossentropy(Tensor::from({2}, {2, 1}), logits, {.from_logits = true});
  EXPECT_NEAR(l.item(), 1e4f, 1.0f);  // sample 0 is wrong by 2e4, sample 1 right: mean 1e4
  l.backward();
  // d/dlogits = (softmax - onehot) / batch
  EXPECT_NEAR(logits.grad().at({0, 0}), 0.5f, 1e-6);
  EXPECT_NEAR(logits.grad().at({0, 2}), -0.5f, 1e-6);
  EXPECT_NEAR(logits.grad().at({1, 1}), 0.0f, 1e-6);
}

TEST(Losses, BadInputsAreClearErrors) {
  const Variable pred(Tensor::ones({2, 3}));
  EXPECT_ERROR(tg::losses::mean_squared_error(Tensor::ones({3, 2}), pred), {"mean_squared_error", "(3, 2)", "(2, 3)"});
  EXPECT_ERROR(tg::losses::categorical_crossentropy(Tensor::ones({2, 4}), pred), {"categorical_crossentropy", "(2, 4)"});
  EXPECT_ERROR(tg::losses::sparse_categorical_crossentropy(Tensor::from({2}, {0, 3}), pred),
               {"sparse_categorical_crossentropy", "label 3", "[0, 3)"});
  EXPECT_ERROR(tg::losses::sparse_categorical_crossentropy(Tensor::from({2}, {0, 0.5f}), pred), {"label 0.5"});
  EXPECT_ERROR(tg::losses::sparse_categorical_crossentropy(Tensor::ones({3}), pred), {"(3,)", "(2,)"});
  EXPECT_ERROR(tg::losses::sparse_categorical_crossentropy(Tensor::ones({2}), Variable(Tensor::ones({2, 3, 1}))),
               {"(2, 3, 1)", "(batch, classes)"});
  EXPECT_ERROR(tg::losses::sparse_categorical_crossentropy(Tensor::ones({2}), pred, {.label_smoothing = 0.1f}),
               {"label_smoothing"});
}
