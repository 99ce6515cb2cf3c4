// LayerNormalization: per-sample statistics over the given axes, gamma/beta shapes, gradcheck.
#include <gtest/gtest.h>

#include <cmath>

#include "../autograd/gradcheck_strength.h"
#include "../error_matchers.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/layer_normalization.h"

namespace tg = tapegrad;
using tg::Shape;
using tg::Tensor;
using tg::Variable;
using Vars = std::vector<Variable>;

TEST(LayerNormalization, NormalizesEachSampleOverTheLastAxis) {
  tg::LayerNormalization ln;
  const Tensor x = Tensor::from({2, 4}, {1, 2, 3, 4, -2, 0, 0, 10});
  const Tensor y = ln(Variable(x)).value();
  for (int64_t r = 0; r < 2; ++r) {
    double m = 0, v = 0;
    for (int64_t j = 0; j < 4; ++j) m += x.at({r, j}) / 4.0;
    for (int64_t j = 0; j < 4; ++j) v += (x.at({r, j}) - m) * (x.at({r, j}) - m) / 4.0;
    for (int64_t j = 0; j < 4; ++j) EXPECT_NEAR(y.at({r, j}), (x.at({r, j}) - m) / std::sqrt(v + 1e-3), 1e-5);
  }
  EXPECT_EQ(ln.gamma()->var.shape(), Shape({4}));
}

TEST(LayerNormalization, SeveralAxesAndTheirParameterShape) {
  tg::LayerNormalization ln({.axis = {1, 2}});
  tg::Rng rng(1);
  const Tensor x = Tensor::randn({3, 4, 5, 2}, rng, 2.0f, 3.0f);
  const Tensor y = ln(Variable(x)).value();
  EXPECT_EQ(ln.gamma()->var.shape(), Shape({4, 5}));
  const Tensor m = tg::mean(y, {1, 2});
  for (float v : m.to_vector()) EXPECT_NEAR(v, 0.0f, 1e-5);
}

TEST(LayerNormalization, Gradcheck) {
  tg::LayerNormalization ln({.axis = {-1}});
  ln.build({3, 4});
  tg::Rng rng(2);
  const auto f = [&](const Vars& v) {
    ln.gamma()->var = v[1];
    ln.beta()->var = v[2];
    return ln(v[0], true);
  };
  const std::vector<Tensor> in = {Tensor::randn({2, 3, 4}, rng), Tensor::randn({4}, rng), Tensor::randn({4}, rng)};
  EXPECT_TRUE(gradcheck_strength::passes(f, in));
  EXPECT_TRUE(gradcheck_strength::detects_10_percent_error(f, in));
}

TEST(LayerNormalization, Errors) {
  EXPECT_ERROR(tg::LayerNormalization({.axis = {0}, .name = "ln"}).output_shape({4}), {"LayerNormalization 'ln'", "axis 0", "batch"});
  tg::LayerNormalization ln({.name = "ln2"});
  ln.build({4});
  EXPECT_ERROR(ln(Variable(Tensor::ones({2, 5}))), {"LayerNormalization 'ln2'", "(None, 5)", "(None, 4)"});
}
