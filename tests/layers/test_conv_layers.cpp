// The convolution-family layers: Keras' documented shapes and parameter counts, channels_first,
// option errors, and values against the ops they are made of.
#include <gtest/gtest.h>

#include "../error_matchers.h"
#include "tapegrad/autograd/conv.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/conv.h"
#include "tapegrad/layers/dense.h"
#include "tapegrad/layers/depthwise_conv.h"
#include "tapegrad/layers/dropout.h"
#include "tapegrad/layers/locally_connected.h"
#include "tapegrad/layers/pooling.h"
#include "tapegrad/layers/reshaping.h"
#include "tapegrad/layers/sequential.h"
#include "tapegrad/optim/sgd.h"
#include "tapegrad/train/losses.h"
#include "tapegrad/train/metrics.h"

namespace tg = tapegrad;
using tg::Shape;
using tg::Tensor;
using tg::Variable;

namespace {
Tensor normal(const Shape& s, uint64_t seed) {
  tg::Rng rng(seed);
  return Tensor::randn(s, rng);
}
Shape run_shape(tg::Layer& layer, const Shape& with_batch) {
  const Shape out = layer(Variable(Tensor::zeros(with_batch))).shape();
  EXPECT_EQ(out.drop(0, 1), layer.output_shape(with_batch.drop(0, 1))) << "output_shape() agrees with the real output";
  return out;
}
}  // namespace

TEST(ConvLayers, KerasDocumentedShapes) {
  // keras.layers.Conv1D/2D/3D docstring examples.
  tg::Conv1D c1(32, 3, {.activation = "relu"});
  EXPECT_EQ(run_shape(c1, {4, 10, 128}), Shape({4, 8, 32}));
  tg::Conv2D c2(2, 3, {.activation = "relu"});
  EXPECT_EQ(run_shape(c2, {4, 28, 28, 3}), Shape({4, 26, 26, 2}));
  tg::Conv2D dilated(2, 3, {.dilation_rate = 2, .activation = "relu"});
  EXPECT_EQ(run_shape(dilated, {4, 28, 28, 3}), Shape({4, 24, 24, 2}));
  tg::Conv2D same(2, 3, {.padding = "same", .activation = "relu"});
  EXPECT_EQ(run_shape(same, {4, 28, 28, 3}), Shape({4, 28, 28, 2}));
  tg::Conv3D c3(2, 3, {.activation = "relu"});
  EXPECT_EQ(run_shape(c3, {4, 28, 28, 28, 1}), Shape({4, 26, 26, 26, 2}));
  tg::Conv1D causal(4, 3, {.padding = "causal", .dilation_rate = 2});
  EXPECT_EQ(run_shape(causal, {2, 10, 3}), Shape({2, 10, 4}));
  tg::Conv2D strided(8, {3, 5}, {.strides = {2, 3}, .padding = "same"});
  EXPECT_EQ(run_shape(strided, {1, 9, 10, 3}), Shape({1, 5, 4, 8}));
  // Parameters: k*k*C_in*filters + filters.
  EXPECT_EQ(c2.count_params(), 3 * 3 * 3 * 2 + 2);
  EXPECT_EQ(c3.count_params(), 27 * 1 * 2 + 2);
  EXPECT_EQ(c2.kernel()->var.shape(), Shape({3, 3, 3, 2}));
}

TEST(ConvLayers, LocallyConnectedKerasExamples) {
  tg::Sequential m1({tg::LocallyConnected1D(64, 3), tg::LocallyConnected1D(32, 3)});
  m1.build({10, 32});
  EXPECT_EQ(m1.layers()[0]->output_shape({10, 32}), Shape({8, 64}));
  EXPECT_EQ(m1.output_shape({10, 32}), Shape({6, 32}));
  EXPECT_EQ(m1.layers()[0]->count_params(), 8 * (3 * 32 * 64) + 8 * 64);
  tg::Sequential m2({tg::LocallyConnected2D(64, {3, 3}), tg::LocallyConnected2D(32, {3, 3})});
  m2.build({32, 32, 3});
  EXPECT_EQ(m2.layers()[0]->output_shape({32, 32, 3}), Shape({30, 30, 64}));
  EXPECT_EQ(m2.layers()[0]->count_params(), (30 * 30) * (3 * 3 * 3 * 64) + (30 * 30) * 64);
  EXPECT_EQ(m2.output_shape({32, 32, 3}), Shape({28, 28, 32}));
  const Variable y = m2(Variable(normal({2, 32, 32, 3}, 1)));
  EXPECT_EQ(y.shape(), Shape({2, 28, 28, 32}));
}

TEST(ConvLayers, SeparableAndDepthwiseParameterCounts) {
  for (int64_t mult : {1, 3}) {
    tg::SeparableConv2D sep(16, 3, {.depth_multiplier = mult});
    EXPECT_EQ(run_shape(sep, {2, 10, 12, 4}), Shape({2, 8, 10, 16}));
    EXPECT_EQ(sep.count_params(), 3 * 3 * 4 * mult + 4 * mult * 16 + 16);
    tg::DepthwiseConv2D dw(3, {.padding = "same", .depth_multiplier = mult});
    EXPECT_EQ(run_shape(dw, {2, 10, 12, 4}), Shape({2, 10, 12, 4 * mult}));
    EXPECT_EQ(dw.count_params(), 3 * 3 * 4 * mult + 4 * mult);
  }
  tg::SeparableConv1D sep1(8, 5, {.strides = 2});
  EXPECT_EQ(run_shape(sep1, {2, 20, 3}), Shape({2, 8, 8}));
  EXPECT_EQ(sep1.count_params(), 5 * 3 + 3 * 8 + 8);
}

TEST(ConvLayers, SeparableEqualsDepthwiseThenPointwise) {
  tg::SeparableConv2D sep(5, 3, {.padding = "same", .depth_multiplier = 2, .activation = "relu"});
  const Tensor x = normal({2, 6, 6, 3}, 2);
  const Tensor y = sep(Variable(x)).value();
  const Variable d = tg::depthwise_conv(Variable(x), sep.depthwise_kernel()->var, {.padding = "same"});
  const Variable want = tg::relu(tg::add(tg::conv(d, sep.pointwise_kernel()->var), sep.bias()->var));
  EXPECT_TRUE(tg::allclose(y, want.value(), 1e-5f, 1e-5f));
}

TEST(ConvLayers, TransposeOutputSizes) {
  // Keras' deconv_output_length: valid = in * s + max(k - s, 0); same = in * s; with output_padding
  // = (in - 1) * s + k - 2 * (k // 2 for same) + output_padding.
  tg::Conv2DTranspose valid(4, 3, {.strides = 2});
  EXPECT_EQ(run_shape(valid, {2, 8, 8, 3}), Shape({2, 17, 17, 4}));
  tg::Conv2DTranspose same(4, 3, {.strides = 2, .padding = "same"});
  EXPECT_EQ(run_shape(same, {2, 8, 8, 3}), Shape({2, 16, 16, 4}));
  tg::Conv2DTranspose same_op(4, 3, {.strides = 2, .padding = "same", .output_padding = 1});
  EXPECT_EQ(run_shape(same_op, {2, 8, 8, 3}), Shape({2, 16, 16, 4}));
  tg::Conv2DTranspose valid_op(4, {3, 4}, {.strides = {2, 3}, .output_padding = {1, 2}});
  EXPECT_EQ(run_shape(valid_op, {1, 5, 5, 2}), Shape({1, 12, 18, 4}));
  EXPECT_EQ(valid_op.kernel()->var.shape(), Shape({3, 4, 4, 2})) << "(k, k, filters, in_channels), as Keras";
  tg::Conv1DTranspose t1(3, 4, {.strides = 2});
  EXPECT_EQ(run_shape(t1, {2, 6, 2}), Shape({2, 14, 3}));
  tg::Conv3DTranspose t3(2, 2, {.strides = 2, .padding = "same"});
  EXPECT_EQ(run_shape(t3, {1, 3, 4, 2, 1}), Shape({1, 6, 8, 4, 2}));
  EXPECT_EQ(t3.count_params(), 8 * 2 * 1 + 2);
}

TEST(ConvLayers, ChannelsFirstEqualsChannelsLastOnPermutedInput) {
  tg::Conv2D last(4, 3, {.strides = 2, .padding = "same"});
  tg::Conv2D first(4, 3, {.strides = 2, .padding = "same", .data_format = "channels_first"});
  last.build({7, 9, 3});
  first.build({3, 7, 9});
  EXPECT_EQ(first.kernel()->var.shape(), last.kernel()->var.shape());
  first.kernel()->var.value().copy_from(last.kernel()->var.value());
  const Tensor x = normal({2, 7, 9, 3}, 3);
  const Tensor xf = tg::permute(x, {0, 3, 1, 2});
  EXPECT_EQ(first.output_shape({3, 7, 9}), Shape({4, 4, 5}));
  const Tensor yl = last(Variable(x)).value(), yf = first(Variable(xf)).value();
  EXPECT_EQ(yf.shape(), Shape({2, 4, 4, 5}));
  EXPECT_TRUE(tg::allclose(tg::permute(yl, {0, 3, 1, 2}), yf, 1e-6f, 1e-6f));
  // Pooling, transpose, padding and flatten take channels_first as well.
  tg::MaxPooling2D pool(2, {.data_format = "channels_first"});
  EXPECT_EQ(run_shape(pool, {2, 3, 8, 6}), Shape({2, 3, 4, 3}));
  tg::Conv2DTranspose tf(5, 3, {.strides = 2, .padding = "same", .data_format = "channels_first"});
  EXPECT_EQ(run_shape(tf, {1, 3, 4, 4}), Shape({1, 5, 8, 8}));
  tg::ZeroPadding2D zp({{1, 0}, {2, 3}}, {.data_format = "channels_first"});
  EXPECT_EQ(run_shape(zp, {1, 3, 4, 4}), Shape({1, 3, 5, 9}));
  tg::GlobalAveragePooling2D gap({.data_format = "channels_first"});
  EXPECT_EQ(run_shape(gap, {2, 3, 4, 4}), Shape({2, 3}));
  tg::LocallyConnected2D lc(2, 3, {.data_format = "channels_first"});
  EXPECT_EQ(run_shape(lc, {1, 3, 5, 6}), Shape({1, 2, 3, 4}));
  tg::Flatten flat_first({.data_format = "channels_first"}), flat_last;
  // Keras keeps weight order: flattening channels_first equals flattening the channels_last input.
  EXPECT_TRUE(tg::allclose(flat_first(Variable(xf)).value(), flat_last(Variable(x)).value(), 0, 0));
}

TEST(PoolingLayers, ShapesAndDefaults) {
  tg::MaxPooling2D p2;
  EXPECT_EQ(run_shape(p2, {2, 7, 8, 3}), Shape({2, 3, 4, 3}));
  tg::MaxPooling2D p2s(3, {.strides = 2, .padding = "same"});
  EXPECT_EQ(run_shape(p2s, {2, 7, 8, 3}), Shape({2, 4, 4, 3}));
  tg::AveragePooling1D a1(3, {.strides = 1});
  EXPECT_EQ(run_shape(a1, {2, 6, 4}), Shape({2, 4, 4}));
  tg::MaxPooling3D p3;
  EXPECT_EQ(run_shape(p3, {1, 4, 4, 4, 2}), Shape({1, 2, 2, 2, 2}));
  tg::AveragePooling3D a3({2, 1, 2});
  EXPECT_EQ(run_shape(a3, {1, 4, 3, 4, 2}), Shape({1, 2, 3, 2, 2}));
  tg::GlobalMaxPooling1D g1;
  EXPECT_EQ(run_shape(g1, {2, 5, 3}), Shape({2, 3}));
  tg::GlobalAveragePooling3D g3({.keepdims = true});
  EXPECT_EQ(run_shape(g3, {2, 2, 3, 4, 5}), Shape({2, 1, 1, 1, 5}));
  EXPECT_EQ(p2.count_params(), 0);
}

TEST(ReshapingLayers, KerasExamples) {
  tg::Cropping2D crop({{2, 2}, {4, 4}});  // Keras docstring: (28, 28, 3) -> (24, 20, 3)
  EXPECT_EQ(run_shape(crop, {2, 28, 28, 3}), Shape({2, 24, 20, 3}));
  tg::Cropping1D crop1({1, 2});
  EXPECT_EQ(run_shape(crop1, {2, 6, 3}), Shape({2, 3, 3}));
  tg::Cropping3D crop3(1);
  EXPECT_EQ(run_shape(crop3, {1, 4, 5, 6, 2}), Shape({1, 2, 3, 4, 2}));
  tg::ZeroPadding1D zp1({1, 2});
  EXPECT_EQ(run_shape(zp1, {2, 3, 1}), Shape({2, 6, 1}));
  tg::ZeroPadding2D zp2({1, 2});
  EXPECT_EQ(run_shape(zp2, {2, 3, 3, 1}), Shape({2, 5, 7, 1}));
  tg::ZeroPadding3D zp3;
  EXPECT_EQ(run_shape(zp3, {1, 2, 2, 2, 1}), Shape({1, 4, 4, 4, 1}));
  tg::UpSampling2D up({1, 2});  // Keras docstring: (2, 2, 1, 3) -> (2, 2, 2, 3)
  EXPECT_EQ(run_shape(up, {2, 2, 1, 3}), Shape({2, 2, 2, 3}));
  tg::UpSampling1D up1;
  EXPECT_EQ(run_shape(up1, {2, 3, 4}), Shape({2, 6, 4}));
  tg::UpSampling3D up3;
  EXPECT_EQ(run_shape(up3, {1, 1, 2, 3, 1}), Shape({1, 2, 4, 6, 1}));
  tg::Reshape r({3, 4});
  EXPECT_EQ(run_shape(r, {2, 12}), Shape({2, 3, 4}));
  tg::Reshape r2({-1, 2, 2});
  EXPECT_EQ(run_shape(r2, {2, 3, 4}), Shape({2, 3, 2, 2}));
  tg::Flatten f;
  EXPECT_EQ(run_shape(f, {2, 3, 4, 5}), Shape({2, 60}));
  // Cropping values: the middle stays.
  const Tensor x = Tensor::arange(10).reshape({1, 10, 1});
  EXPECT_EQ(crop1(Variable(x)).value().to_vector(), (std::vector<float>{1, 2, 3, 4, 5, 6, 7}));
}

TEST(ConvLayers, KerasCifar10CnnSummary) {
  // keras/examples/cifar10_cnn.py: 1,250,858 parameters.
  tg::Sequential model({tg::Conv2D(32, 3, {.padding = "same", .activation = "relu"}), tg::Conv2D(32, 3, {.activation = "relu"}),
                        tg::MaxPooling2D(2), tg::Dropout(0.25f),
                        tg::Conv2D(64, 3, {.padding = "same", .activation = "relu"}), tg::Conv2D(64, 3, {.activation = "relu"}),
                        tg::MaxPooling2D(2), tg::Dropout(0.25f), tg::Flatten(), tg::Dense(512, {.activation = "relu"}),
                        tg::Dropout(0.5f), tg::Dense(10, {.activation = "softmax"})},
                       {.name = "cifar10_cnn"});
  model.build({32, 32, 3});
  EXPECT_EQ(model.count_params(), 1250858);
  const std::string s = model.summary_string();
  for (const char* row : {"(None, 32, 32, 32)        896", "(None, 30, 30, 32)        9248", "(None, 15, 15, 32)        0",
                          "(None, 15, 15, 64)        18496", "(None, 13, 13, 64)        36928", "(None, 6, 6, 64)          0",
                          "(None, 2304)              0", "(None, 512)               1180160", "(None, 10)                5130",
                          "Total params: 1250858 (4.77 MB)", "Trainable params: 1250858"})
    EXPECT_NE(s.find(row), std::string::npos) << "missing '" << row << "' in\n" << s;
  const Variable y = model(Variable(normal({2, 32, 32, 3}, 4)), true);
  EXPECT_EQ(y.shape(), Shape({2, 10}));
}

TEST(ConvLayers, InvalidOptionsAndInputsAreClearErrors) {
  EXPECT_ERROR(tg::Conv2D(8, 3, {.strides = 2, .dilation_rate = 2, .name = "c"}), {"Conv2D 'c'", "strides > 1", "dilation_rate > 1"});
  EXPECT_ERROR(tg::Conv2D(8, 3, {.padding = "causal"}), {"Conv2D", "unknown padding 'causal'"});
  EXPECT_ERROR(tg::Conv2D(8, {3, 3, 3}), {"Conv2D", "kernel_size needs 1 or 2 values", "(3, 3, 3)"});
  EXPECT_ERROR(tg::Conv2D(0, 3), {"Conv2D", "filters"});
  EXPECT_ERROR(tg::Conv2D(8, 3, {.output_padding = 1}), {"Conv2D", "output_padding"});
  EXPECT_ERROR(tg::Conv2DTranspose(8, 3, {.strides = 2, .output_padding = 2}), {"Conv2DTranspose", "output_padding (2, 2)"});
  EXPECT_ERROR(tg::Conv2D(8, 3, {.data_format = "NHWC"}), {"Conv2D", "data_format 'NHWC'"});
  EXPECT_ERROR(tg::LocallyConnected2D(8, 3, {.padding = "same"}), {"LocallyConnected2D", "'valid'", "'same'"});
  EXPECT_ERROR(tg::LocallyConnected1D(8, 3, {.dilation_rate = 2}), {"LocallyConnected1D", "dilation_rate"});
  EXPECT_ERROR(tg::DepthwiseConv2D(3, {.depth_multiplier = 0}), {"DepthwiseConv2D", "depth_multiplier"});
  EXPECT_ERROR(tg::SeparableConv2D(4, 3, {.strides = 2, .dilation_rate = 2}), {"SeparableConv2D", "dilation_rate"});
  tg::Conv2D conv(8, 5, {.name = "c5"});
  EXPECT_ERROR(conv.output_shape({4, 4, 3}), {"Conv2D 'c5'", "(5, 5)", "larger than the input", "(None, 4, 4, 3)"});
  EXPECT_ERROR(conv(Variable(Tensor::ones({32, 30, 30}))), {"Conv2D 'c5'", "(None, 30, 30)", "expects 4"});
  conv.build({8, 8, 3});
  EXPECT_ERROR(conv(Variable(Tensor::ones({1, 8, 8, 4}))), {"Conv2D 'c5'", "4 channels", "built for 3"});
  EXPECT_ERROR(tg::MaxPooling2D(3)(Variable(Tensor::ones({1, 2, 2, 1}))), {"MaxPooling2D", "larger than the input"});
  EXPECT_ERROR(tg::Cropping2D(2)(Variable(Tensor::ones({1, 4, 4, 1}))), {"Cropping2D", "leaves nothing"});
  EXPECT_ERROR(tg::Reshape({5, -1})(Variable(Tensor::ones({1, 12}))), {"Reshape", "(None, 12)"});
  EXPECT_ERROR(tg::UpSampling2D(2, {}, "bilinear"), {"UpSampling2D", "bilinear"});
  EXPECT_ERROR(tg::ZeroPadding2D({1, 2, 3}), {"ZeroPadding2D", "padding needs 1 or 2 values"});
}

TEST(ConvLayers, ASmallCnnLearnsToTellBarsApart) {
  // Images with one horizontal or one vertical bar at a random place: a linear model on raw
  // pixels cannot do better than chance by position, a CNN learns it quickly.
  tg::manual_seed(3);
  tg::Rng rng(7);
  const int64_t n = 256;
  Tensor x = Tensor::zeros({n, 8, 8, 1}), y = Tensor::empty({n});
  for (int64_t i = 0; i < n; ++i) {
    const bool vertical = rng.uniform() < 0.5;
    const int64_t at = static_cast<int64_t>(rng.uniform_int(8));
    for (int64_t j = 0; j < 8; ++j) x.at({i, vertical ? j : at, vertical ? at : j, 0}) = 1.0f;
    y.data()[i] = vertical ? 1.0f : 0.0f;
  }
  tg::Sequential model({tg::Conv2D(4, 3, {.padding = "same", .activation = "relu"}), tg::MaxPooling2D(2),
                        tg::Conv2D(8, 3, {.activation = "relu"}), tg::GlobalMaxPooling2D(), tg::Dense(2)});
  model.build({8, 8, 1});
  tg::SGD opt(model.parameters(), {.learning_rate = 0.1f, .momentum = 0.9f});
  for (int step = 0; step < 60; ++step) {
    Variable loss = tg::losses::sparse_categorical_crossentropy(y, model(Variable(x), true), {.from_logits = true});
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  tg::NoGradGuard no_grad;
  EXPECT_GT(tg::metrics::sparse_categorical_accuracy(y, model(Variable(x)).value()), 0.95);
}
