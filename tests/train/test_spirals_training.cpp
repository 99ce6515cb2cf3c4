// The foundation end to end: a Sequential MLP trained with SGD by a hand-written loop (as a user
// writes it) separates two spirals, which no linear model can.
#include <gtest/gtest.h>

#include <numeric>

#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/data/spirals.h"
#include "tapegrad/layers/dense.h"
#include "tapegrad/layers/sequential.h"
#include "tapegrad/optim/sgd.h"
#include "tapegrad/train/losses.h"
#include "tapegrad/train/metrics.h"

namespace tg = tapegrad;
using tg::Tensor;
using tg::Variable;

namespace {

double train_and_score(tg::Sequential& model, const tg::data::Points& train, const tg::data::Points& test, int epochs) {
  model.build({2});
  tg::SGD opt(model.parameters(), {.learning_rate = 0.05f, .momentum = 0.9f});
  const int64_t n = train.x.dim(0), batch = 32;
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  tg::Rng shuffle(2);
  for (int epoch = 0; epoch < epochs; ++epoch) {
    for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[shuffle.uniform_int(i + 1)]);
    for (int64_t b = 0; b < n; b += batch) {
      const std::vector<int64_t> idx(order.begin() + b, order.begin() + std::min(n, b + batch));
      auto logits = model(Variable(tg::take_rows(train.x, idx)), true);
      auto loss = tg::losses::sparse_categorical_crossentropy(tg::take_rows(train.y, idx), logits, {.from_logits = true});
      opt.zero_grad();
      loss.backward();
      opt.step();
    }
  }
  tg::NoGradGuard no_grad;
  return tg::metrics::sparse_categorical_accuracy(test.y, model(Variable(test.x)).value());
}

}  // namespace

TEST(SpiralsTraining, MlpReachesOver95PercentOnHeldOutPoints) {
  tg::manual_seed(1);
  const auto train = tg::data::two_spirals(400, 1);
  const auto test = tg::data::two_spirals(200, 1001);
  tg::Sequential model({tg::Dense(64, {.activation = "relu"}), tg::Dense(64, {.activation = "relu"}), tg::Dense(2)});
  const double accuracy = train_and_score(model, train, test, 60);
  EXPECT_GT(accuracy, 0.95);
}

TEST(SpiralsTraining, ALinearModelCannotSeparateThem) {
  // The control that makes the test above meaningful: the problem is not linearly separable.
  tg::manual_seed(1);
  const auto train = tg::data::two_spirals(400, 1);
  const auto test = tg::data::two_spirals(200, 1001);
  tg::Sequential linear({tg::Dense(2)});
  EXPECT_LT(train_and_score(linear, train, test, 60), 0.75);
}
