// RepeatVector and Permute: Keras' shapes, values, gradients, errors.
#include <gtest/gtest.h>

#include "../autograd/gradcheck_strength.h"
#include "../error_matchers.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/permute.h"
#include "tapegrad/layers/repeat_vector.h"

namespace tg = tapegrad;
using tg::Shape;
using tg::Tensor;
using tg::Variable;
using Vars = std::vector<Variable>;

TEST(RepeatVector, RepeatsEachSample) {
  tg::RepeatVector r(3);
  EXPECT_EQ(r.output_shape({4}), Shape({3, 4}));
  const Tensor x = Tensor::from({2, 2}, {1, 2, 3, 4});
  EXPECT_TRUE(tg::allclose(r(Variable(x)).value(), Tensor::from({2, 3, 2}, {1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4})));
  tg::Rng rng(1);
  const auto f = [&](const Vars& v) { return r(v[0]); };
  EXPECT_TRUE(gradcheck_strength::passes(f, {Tensor::randn({2, 4}, rng)}));
  EXPECT_ERROR(tg::RepeatVector(2, {.name = "rv"}).output_shape({3, 4}), {"RepeatVector 'rv'", "(None, 3, 4)", "expects 2"});
  EXPECT_ERROR(tg::RepeatVector(0), {"RepeatVector", "n"});
}

TEST(Permute, KerasOneBasedDims) {
  tg::Permute p({2, 1});
  EXPECT_EQ(p.output_shape({10, 64}), Shape({64, 10}));
  const Tensor x = Tensor::arange(12).reshape({2, 2, 3});
  const Tensor y = p(Variable(x)).value();
  ASSERT_EQ(y.shape(), Shape({2, 3, 2}));
  EXPECT_EQ(y.at({1, 2, 0}), x.at({1, 0, 2}));
  tg::Permute p3({3, 1, 2});
  EXPECT_EQ(p3.output_shape({4, 5, 6}), Shape({6, 4, 5}));
  tg::Rng rng(2);
  const auto f = [&](const Vars& v) { return p3(v[0]); };
  EXPECT_TRUE(gradcheck_strength::passes(f, {Tensor::randn({2, 4, 5, 6}, rng)}));
  EXPECT_ERROR(tg::Permute({0, 1}, {.name = "perm"}), {"Permute 'perm'", "(0, 1)", "permutation of 1..2"});
  EXPECT_ERROR(tg::Permute({2, 1}, {.name = "perm2"}).output_shape({2, 3, 4}), {"Permute 'perm2'", "(None, 2, 3, 4)"});
}
