// Pooling, global pooling, zero padding and upsampling: values by hand or by naive loops,
// gradcheck, errors.
#include <gtest/gtest.h>

#include "../error_matchers.h"
#include "../test_data.h"
#include "gradcheck_strength.h"
#include "tapegrad/autograd/gradcheck.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/pooling.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"

namespace tg = tapegrad;
using tg::Shape;
using tg::Tensor;
using tg::Variable;
using Vars = std::vector<Variable>;
using gradcheck_strength::passes;
using tapegrad::testing::normal;
using tapegrad::testing::uniform;

namespace {
// Distinct values, so max pooling has no ties and finite differences do not cross a tie.
Tensor distinct(const Shape& s, uint64_t seed) {
  tg::Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(s.numel()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = 0.1f * static_cast<float>(i);
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.uniform_int(i)]);
  return Tensor::from(s, v);
}
}  // namespace

TEST(Pooling, MaxAndAverage2DByHand) {
  // One 4x4 channel: windows 2x2 stride 2.
  const Tensor x = Tensor::arange(16).reshape({1, 4, 4, 1});
  EXPECT_EQ(tg::max_pool(Variable(x), {2, 2}).value().to_vector(), (std::vector<float>{5, 7, 13, 15}));
  EXPECT_EQ(tg::avg_pool(Variable(x), {2, 2}).value().to_vector(), (std::vector<float>{2.5f, 4.5f, 10.5f, 12.5f}));
  // 3x3 windows, stride 2, same padding on a 4x4: out 2x2; the one padded row and column go to
  // the bottom/right and are ignored. Window (0,0) covers rows and cols 0-2.
  const Tensor same_max = tg::max_pool(Variable(x), {3, 3}, {2, 2}, "same").value();
  EXPECT_EQ(same_max.to_vector(), (std::vector<float>{10, 11, 14, 15}));
  const Tensor same_avg = tg::avg_pool(Variable(x), {3, 3}, {2, 2}, "same").value();
  // Window (0,0) = rows 0-2, cols 0-2: mean of {0,1,2,4,5,6,8,9,10} = 5; window (1,1) = rows 2-3,
  // cols 2-3 (one padded row/col, not counted): mean of {10,11,14,15} = 12.5.
  EXPECT_FLOAT_EQ(same_avg.data()[0], 5.0f);
  EXPECT_FLOAT_EQ(same_avg.data()[3], 12.5f);
}

TEST(Pooling, OneAndThreeDimensionsAndChannels) {
  const Tensor x1 = Tensor::from({1, 5, 2}, {1, -1, 3, -3, 2, -2, 5, -5, 4, -4});
  // pool 2, stride 1: windows over steps {0,1},{1,2},{2,3},{3,4} per channel.
  EXPECT_EQ(tg::max_pool(Variable(x1), {2}, {1}).value().to_vector(), (std::vector<float>{3, -1, 3, -2, 5, -2, 5, -4}));
  const Tensor x3 = Tensor::arange(2 * 4 * 4 * 4).reshape({2, 4, 4, 4, 1});
  const Tensor m = tg::max_pool(Variable(x3), {2, 2, 2}).value();
  EXPECT_EQ(m.shape(), Shape({2, 2, 2, 2, 1}));
  EXPECT_FLOAT_EQ(m.data()[0], 21.0f);  // (1,1,1) of the first 2x2x2 block: 16 + 4 + 1
  const Tensor a = tg::avg_pool(Variable(x3), {2, 2, 2}).value();
  EXPECT_FLOAT_EQ(a.data()[0], 10.5f);  // mean of {0,1,4,5,16,17,20,21}
}

TEST(Pooling, Gradcheck) {
  EXPECT_TRUE(passes([](const Vars& v) { return tg::max_pool(v[0], {2, 2}); }, {distinct({2, 4, 6, 3}, 1)}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::max_pool(v[0], {3, 3}, {2, 2}, "same"); }, {distinct({1, 5, 5, 2}, 2)}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::max_pool(v[0], {2}, {1}); }, {distinct({2, 5, 2}, 3)}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::max_pool(v[0], {2, 2, 2}); }, {distinct({1, 4, 2, 4, 2}, 4)}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::avg_pool(v[0], {2, 2}); }, {normal({2, 4, 4, 2}, 5)}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::avg_pool(v[0], {3, 3}, {2, 2}, "same"); }, {normal({1, 5, 4, 2}, 6)}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::avg_pool(v[0], {3}, {2}, "same"); }, {normal({2, 7, 2}, 7)}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::avg_pool(v[0], {2, 1, 2}); }, {normal({1, 4, 3, 4, 2}, 8)}));
}

TEST(GlobalPooling, ValuesAndGradcheck) {
  const Tensor x = Tensor::from({2, 2, 2, 2}, {1, 8, 3, 6, 5, 4, 7, 2, -1, -8, -3, -6, -5, -4, -7, -2});
  EXPECT_EQ(tg::global_max_pool(Variable(x)).value().to_vector(), (std::vector<float>{7, 8, -1, -2}));
  EXPECT_EQ(tg::global_avg_pool(Variable(x)).value().to_vector(), (std::vector<float>{4, 5, -4, -5}));
  EXPECT_EQ(tg::global_avg_pool(Variable(x), true).shape(), Shape({2, 1, 1, 2}));
  EXPECT_EQ(tg::global_max_pool(Variable(x), true).shape(), Shape({2, 1, 1, 2}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::global_max_pool(v[0]); }, {distinct({2, 3, 3, 2}, 9)}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::global_avg_pool(v[0]); }, {normal({2, 5, 3}, 10)}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::global_max_pool(v[0], true); }, {distinct({1, 2, 2, 2, 3}, 11)}));
}

TEST(ZeroPadAndUpsample, ValuesAndGradcheck) {
  const Tensor x = Tensor::from({1, 2, 2, 1}, {1, 2, 3, 4});
  const Tensor p = tg::zero_pad(Variable(x), {{1, 0}, {0, 2}}).value();
  EXPECT_EQ(p.shape(), Shape({1, 3, 4, 1}));
  EXPECT_EQ(p.to_vector(), (std::vector<float>{0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0}));
  const Tensor u = tg::upsample(Variable(x), {2, 3}).value();
  EXPECT_EQ(u.shape(), Shape({1, 4, 6, 1}));
  EXPECT_EQ(u.to_vector(), (std::vector<float>{1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::zero_pad(v[0], {{2, 1}}); }, {normal({2, 3, 2}, 12)}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::zero_pad(v[0], {{1, 1}, {0, 2}, {1, 0}}); }, {normal({1, 2, 2, 2, 2}, 13)}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::upsample(v[0], {2, 2}); }, {normal({2, 2, 3, 2}, 14)}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::upsample(v[0], {3}); }, {normal({2, 3, 2}, 15)}));
  EXPECT_TRUE(passes([](const Vars& v) { return tg::upsample(v[0], {2, 1, 2}); }, {normal({1, 2, 2, 2, 1}, 16)}));
}

TEST(Pooling, Errors) {
  const Variable x(Tensor::ones({1, 4, 4, 2}));
  EXPECT_ERROR(tg::max_pool(x, {5, 5}), {"max_pool", "larger than the input"});
  EXPECT_ERROR(tg::avg_pool(x, {2, 2}, {}, "causal"), {"avg_pool", "'causal'"});
  EXPECT_ERROR(tg::max_pool(x, {2}), {"max_pool", "entries"});
  EXPECT_ERROR(tg::global_max_pool(Variable(Tensor::ones({2, 3}))), {"global_max_pool", "(2, 3)"});
  EXPECT_ERROR(tg::zero_pad(x, {{1, 1}}), {"zero_pad", "(1, 4, 4, 2)"});
  EXPECT_ERROR(tg::upsample(x, {2, 0}), {"upsample", "positive"});
}
