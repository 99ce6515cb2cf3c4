// A model whose kernel_constraint is MaxNorm, trained with SGD: after every step each unit's
// incoming weight vector (a kernel column) has norm <= max_value, and the constraint binds.
#include <gtest/gtest.h>

#include <cmath>

#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/constraint.h"
#include "tapegrad/layers/dense.h"
#include "tapegrad/layers/sequential.h"
#include "tapegrad/optim/sgd.h"
#include "tapegrad/train/losses.h"

namespace tg = tapegrad;
using tg::Tensor;
using tg::Variable;

TEST(MaxNormTraining, KernelColumnNormsStayBelowTheLimitAfterEveryStep) {
  tg::manual_seed(3);
  constexpr float kMax = 0.6f;
  tg::Sequential model({tg::Dense(16, {.activation = "relu", .kernel_constraint = std::make_shared<tg::MaxNorm>(kMax)}),
                        tg::Dense(1)});
  model.build({4});
  tg::SGD opt(model.parameters(), {.learning_rate = 0.1f});
  tg::Rng rng(4);
  const Tensor x = Tensor::randn({32, 4}, rng);
  // A target that needs large weights: the constraint has to act.
  const Tensor y = tg::mul(tg::sum(x, {1}, true), 5.0f);
  const auto* first = static_cast<tg::Dense*>(model.layers()[0].get());
  double largest = 0.0;
  for (int step = 0; step < 30; ++step) {
    const Variable loss = tg::losses::mean_squared_error(y, model(Variable(x), true));
    opt.zero_grad();
    loss.backward();
    opt.step();
    const Tensor& k = first->kernel()->var.value();
    const Tensor norms = tg::sqrt(tg::sum(tg::mul(k, k), {0}));
    for (float n : norms.to_vector()) {
      ASSERT_LE(n, kMax * (1 + 1e-5)) << "step " << step;
      largest = std::max(largest, static_cast<double>(n));
    }
  }
  EXPECT_NEAR(largest, kMax, 1e-4) << "the constraint never bound: the test would not catch a missing projection";
}
