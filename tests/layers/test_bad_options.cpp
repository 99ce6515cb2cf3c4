// Bad layer options and hand-set weights are clear errors that name the layer (issue 13, points
// 7, 8 and 10).
#include <gtest/gtest.h>

#include "../error_matchers.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/batch_normalization.h"
#include "tapegrad/layers/conv.h"
#include "tapegrad/layers/dense.h"
#include "tapegrad/layers/pooling.h"
#include "tapegrad/layers/sequential.h"
#include "tapegrad/optim/sgd.h"
#include "tapegrad/train/fit.h"
#include "tapegrad/train/losses.h"

namespace tg = tapegrad;
using tg::Shape;
using tg::Tensor;
using tg::Variable;

TEST(BadOptions, NegativeSizesNameTheLayerAndTheOption) {
  EXPECT_ERROR(tg::Conv2D(4, -3), {"Conv2D 'conv2d'", "kernel_size", "positive", "-3"});
  EXPECT_ERROR(tg::Conv2D(4, 3, {.strides = {1, -2}}), {"Conv2D 'conv2d'", "strides (1, -2)", "positive"});
  EXPECT_ERROR(tg::Conv1D(4, 3, {.dilation_rate = 0}), {"Conv1D", "dilation_rate", "positive", "0"});
  EXPECT_ERROR(tg::MaxPooling2D(-2), {"MaxPooling2D 'max_pooling2d'", "pool_size", "-2"});
  EXPECT_ERROR(tg::Conv2DTranspose(4, 3, {.strides = 2, .output_padding = -1}), {"Conv2DTranspose", "output_padding", ">= 0"});
}

TEST(BadOptions, ATransposedConvolutionWhoseOutputPaddingCannotMapBackFailsAtBuild) {
  // Kernel 4, stride 2, 'same', output_padding 0 on 7: length 12, which a stride-2 'same'
  // convolution maps to 6, not 7.
  tg::Conv2DTranspose bad(3, 4, {.strides = 2, .padding = "same", .output_padding = 0});
  EXPECT_ERROR(bad.build({7, 7, 2}), {"Conv2DTranspose", "output_padding 0", "gives length 12", "maps to 6, not back to 7"});
  EXPECT_FALSE(bad.built());
  tg::Conv2DTranspose good(3, 4, {.strides = 2, .padding = "same", .output_padding = 1});
  good.build({7, 7, 2});
  EXPECT_EQ(good(Variable(Tensor::ones({1, 7, 7, 2}))).shape(), Shape({1, 13, 13, 3}));
}

TEST(BadOptions, FitOnNoSamplesIsAnError) {
  tg::Sequential model({tg::Dense(2)});
  model.build({3});
  tg::SGD opt(model.parameters());
  const tg::losses::MeanSquaredError mse;
  EXPECT_ERROR((void)tg::fit(model, opt, mse, Tensor::zeros({0, 3}), Tensor::zeros({0, 2}), {.epochs = 2, .verbose = 0}),
               {"fit", "(0, 3)", "no samples"});
}

TEST(Weights, GetAndSetWeightsInKerasOrderWithShapesChecked) {
  tg::Sequential model({tg::Dense(3, {.name = "hidden"}), tg::BatchNormalization(), tg::Dense(2)});
  model.build({4});
  auto w = model.get_weights();
  ASSERT_EQ(w.size(), 8u);  // kernel, bias, gamma, beta, moving_mean, moving_variance, kernel, bias
  EXPECT_EQ(w[0].shape(), Shape({4, 3}));
  EXPECT_EQ(w[4].shape(), Shape({3}));
  for (auto& t : w) t.fill_(0.5f);
  model.set_weights(w);
  EXPECT_TRUE(tg::allclose(model.parameters()[6]->var.value(), Tensor::full({3, 2}, 0.5f), 0, 0));
  // A kernel in the wrong order (same element count) is refused, naming the weight; nothing changes.
  auto wrong = model.get_weights();
  wrong[0] = Tensor::ones({3, 4});
  wrong[1] = Tensor::ones({3});
  EXPECT_ERROR(model.set_weights(wrong), {"Sequential", "tensor 0 is (3, 4)", "'hidden/kernel' is (4, 3)"});
  EXPECT_TRUE(tg::allclose(model.parameters()[1]->var.value(), Tensor::full({3}, 0.5f), 0, 0));
  EXPECT_ERROR(model.set_weights(std::vector<Tensor>(7)), {"set_weights got 7 tensors", "8 weights"});
  // By name.
  auto named = model.get_named_weights();
  ASSERT_EQ(named.count("batch_normalization/moving_variance"), 1u);
  named["hidden/bias"] = Tensor::full({3}, 2.0f);
  EXPECT_TRUE(model.set_weights(named).empty());
  EXPECT_EQ(model.parameters()[1]->var.value().to_vector(), (std::vector<float>{2, 2, 2}));
  named.erase("dense/kernel");
  named["extra"] = Tensor::ones({1});
  EXPECT_ERROR((void)model.set_weights(named), {"no tensor for weight 'dense/kernel'"});
  const auto skipped = model.set_weights(named, /*strict=*/false);
  EXPECT_EQ(skipped, (std::vector<std::string>{"dense/kernel", "extra"}));
}
