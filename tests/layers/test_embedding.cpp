// Embedding: output shape, lookups, gradient into the table, mask_zero, errors.
#include <gtest/gtest.h>

#include "../error_matchers.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/embedding.h"
#include "tapegrad/layers/sequential.h"
#include "tapegrad/layers/dense.h"

namespace tg = tapegrad;
using tg::Shape;
using tg::Tensor;
using tg::Variable;

TEST(Embedding, ShapesParametersAndLookups) {
  tg::Embedding e(10, 4);
  EXPECT_EQ(e.output_shape({7}), Shape({7, 4}));
  const Tensor ids = Tensor::from({2, 3}, {0, 9, 3, 3, 1, 0});
  const Variable y = e(Variable(ids));
  EXPECT_EQ(e.count_params(), 40);
  ASSERT_EQ(y.shape(), Shape({2, 3, 4}));
  const Tensor& table = e.embeddings()->var.value();
  for (int64_t j = 0; j < 4; ++j) {
    EXPECT_EQ(y.value().at({0, 1, j}), table.at({9, j}));
    EXPECT_EQ(y.value().at({1, 0, j}), table.at({3, j}));
  }
  // Keras' default initializer: uniform in [-0.05, 0.05].
  EXPECT_LE(tg::max(tg::abs(table)).item(), 0.05f);
  tg::sum(y).backward();
  EXPECT_EQ(e.embeddings()->var.grad().at({3, 0}), 2.0f);
  EXPECT_EQ(e.embeddings()->var.grad().at({5, 0}), 0.0f);
}

TEST(Embedding, MaskZero) {
  tg::Embedding e(5, 2, {.mask_zero = true});
  EXPECT_TRUE(tg::allclose(e.compute_mask(Tensor::from({4}, {0, 3, 0, 1})), Tensor::from({4}, {0, 1, 0, 1})));
  EXPECT_ERROR(tg::Embedding(5, 2, {.name = "plain"}).compute_mask(Tensor::ones({2})), {"Embedding 'plain'", "mask_zero"});
}

TEST(Embedding, FeedsADenseHead) {
  tg::Sequential model({tg::Embedding(20, 8), tg::Dense(3)});
  EXPECT_EQ(model.output_shape({5}), Shape({5, 3}));
  model.build({5});
  EXPECT_EQ(model.count_params(), 20 * 8 + 8 * 3 + 3);
}

TEST(Embedding, Errors) {
  tg::Embedding e(5, 2, {.name = "emb"});
  EXPECT_ERROR(e(Variable(Tensor::from({1, 2}, {1, 7}))), {"Embedding 'emb'", "id 7", "[0, 5)", "(1, 2)"});
  EXPECT_ERROR(tg::Embedding(0, 3), {"Embedding", "input_dim"});
}
