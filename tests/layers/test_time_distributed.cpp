// TimeDistributed: equal to applying the inner layer to each step by hand, one set of weights
// (Keras' parameter count), works on a Sequential, gradcheck, shape errors.
#include <gtest/gtest.h>

#include "../autograd/gradcheck_strength.h"
#include "../error_matchers.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/dense.h"
#include "tapegrad/layers/sequential.h"
#include "tapegrad/layers/time_distributed.h"

namespace tg = tapegrad;
using tg::Shape;
using tg::Tensor;
using tg::Variable;
using Vars = std::vector<Variable>;

TEST(TimeDistributed, DenseOnSequencesHasKerasShapeAndParameterCount) {
  // Keras: TimeDistributed(Dense(32)) on (None, 10, 16) -> (None, 10, 32), 16*32 + 32 params.
  tg::TimeDistributed td(tg::Dense(32));
  EXPECT_EQ(td.output_shape({10, 16}), Shape({10, 32}));
  td.build({10, 16});
  EXPECT_EQ(td.count_params(), 16 * 32 + 32);
  EXPECT_EQ(td.parameters().size(), 2u);
}

TEST(TimeDistributed, EqualsTheInnerLayerAppliedToEachStep) {
  auto inner = std::make_shared<tg::Sequential>(
      std::initializer_list<tg::LayerRef>{tg::Dense(5, {.activation = "tanh"}), tg::Dense(3)});
  tg::TimeDistributed td(inner);
  tg::Rng rng(1);
  const Tensor x = Tensor::randn({4, 6, 7}, rng);
  const Tensor y = td(Variable(x)).value();
  ASSERT_EQ(y.shape(), Shape({4, 6, 3}));
  for (int64_t t = 0; t < 6; ++t) {
    const Tensor step = tg::slice(x, 1, t, t + 1).reshape({4, 7});
    const Tensor expected = (*inner)(Variable(step)).value();
    EXPECT_TRUE(tg::allclose(tg::slice(y, 1, t, t + 1).reshape({4, 3}), expected, 1e-5f, 1e-6f)) << "step " << t;
  }
}

TEST(TimeDistributed, GradcheckThroughInputAndWeights) {
  auto shared = std::make_shared<tg::Dense>(3, tg::DenseOptions{.activation = "tanh"});
  tg::TimeDistributed td(shared);
  td.build({4, 5});
  tg::Rng rng(2);
  const Tensor x = Tensor::randn({2, 4, 5}, rng);
  const Tensor kernel = shared->kernel()->var.value().clone(), bias = Tensor::randn({3}, rng);
  // The weights enter as gradcheck inputs: each run installs them as the layer's parameters.
  const auto f = [&](const Vars& v) {
    shared->kernel()->var = v[1];
    shared->bias()->var = v[2];
    return td(v[0], true);
  };
  EXPECT_TRUE(gradcheck_strength::passes(f, {x, kernel, bias}));
  EXPECT_TRUE(gradcheck_strength::detects_10_percent_error(f, {x, kernel, bias}));
}

TEST(TimeDistributed, Errors) {
  tg::TimeDistributed td(tg::Dense(2, {.name = "head"}), {.name = "td"});
  EXPECT_ERROR(td.output_shape({16}), {"TimeDistributed 'td'", "(None, 16)", "at least 3", "Dense 'head'"});
  td.build({5, 3});
  EXPECT_ERROR(td(Variable(Tensor::ones({2, 5, 4}))), {"Dense 'head'", "expected 3"});
}
