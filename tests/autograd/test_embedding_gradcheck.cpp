// embedding_lookup: gathered rows, the scattered (summed) gradient for repeated ids, gradcheck,
// and errors for ids that are out of range or not integers.
#include <gtest/gtest.h>

#include "../error_matchers.h"
#include "tapegrad/autograd/nn_ops.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"
#include "gradcheck_strength.h"

namespace tg = tapegrad;
using gradcheck_strength::detects_10_percent_error;
using gradcheck_strength::passes;
using tg::Tensor;
using tg::Variable;
using Vars = std::vector<Variable>;

TEST(EmbeddingOp, GathersRowsAndScattersGradients) {
  const Tensor table = Tensor::arange(12).reshape({4, 3});
  const Tensor ids = Tensor::from({2, 2}, {3, 0, 3, 1});
  Variable t(table.clone(), true);
  const Variable y = tg::embedding_lookup(t, ids);
  ASSERT_EQ(y.shape(), tg::Shape({2, 2, 3}));
  EXPECT_TRUE(tg::allclose(y.value(), Tensor::from({2, 2, 3}, {9, 10, 11, 0, 1, 2, 9, 10, 11, 3, 4, 5})));
  tg::sum(y).backward();
  // Row 3 is used twice, rows 0 and 1 once, row 2 never.
  EXPECT_TRUE(tg::allclose(t.grad(), Tensor::from({4, 3}, {1, 1, 1, 1, 1, 1, 0, 0, 0, 2, 2, 2})));
}

TEST(EmbeddingGradcheck, TableGradient) {
  tg::Rng rng(1);
  const Tensor table = Tensor::randn({5, 4}, rng);
  const Tensor ids = Tensor::from({3, 2}, {4, 1, 1, 0, 2, 4});
  const auto f = [ids](const Vars& v) { return tg::embedding_lookup(v[0], ids); };
  EXPECT_TRUE(passes(f, {table}));
  EXPECT_TRUE(detects_10_percent_error(f, {table}));
}

TEST(EmbeddingOp, BadIdsAreErrors) {
  const Variable table(Tensor::ones({5, 2}));
  EXPECT_ERROR(tg::embedding_lookup(table, Tensor::from({2}, {1, 5}), "Embedding 'emb'"),
               {"Embedding 'emb'", "id 5", "[0, 5)", "(2,)"});
  EXPECT_ERROR(tg::embedding_lookup(table, Tensor::from({1}, {1.5f})), {"1.5", "not an integer"});
  EXPECT_ERROR(tg::embedding_lookup(table, Tensor::from({1}, {-1})), {"-1"});
}
