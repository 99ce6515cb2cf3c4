// SpatialDropout1D/2D/3D: whole channels zero or scaled together, the drop fraction over many
// draws, identity at inference, both data formats, gradcheck with a fixed mask, errors.
#include <gtest/gtest.h>

#include <cmath>

#include "../autograd/gradcheck_strength.h"
#include "../error_matchers.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/spatial_dropout.h"

namespace tg = tapegrad;
using tg::Shape;
using tg::Tensor;
using tg::Variable;
using Vars = std::vector<Variable>;

namespace {
// For each (sample, channel) of y = layer(ones): all spatial values equal, 0 or 1 / (1 - rate).
// Returns the fraction of dropped channels.
double check_whole_channels(const Tensor& y, bool channels_first, float rate) {
  const int64_t batch = y.dim(0), channels = channels_first ? y.dim(1) : y.dim(-1);
  const int64_t spatial = y.numel() / (batch * channels);
  int64_t dropped = 0;
  const float* p = y.data();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t c = 0; c < channels; ++c) {
      auto at = [&](int64_t s) {
        return channels_first ? p[(b * channels + c) * spatial + s] : p[(b * spatial + s) * channels + c];
      };
      const float first = at(0);
      EXPECT_TRUE(first == 0.0f || std::fabs(first - 1.0f / (1.0f - rate)) < 1e-6f) << first;
      for (int64_t s = 1; s < spatial; ++s)
        if (at(s) != first) {
          ADD_FAILURE() << "sample " << b << " channel " << c << " is not dropped or kept as a whole";
          return -1;
        }
      dropped += first == 0.0f;
    }
  return static_cast<double>(dropped) / static_cast<double>(batch * channels);
}
}  // namespace

TEST(SpatialDropout, WholeChannelsDropTogetherInEveryRankAndFormat) {
  struct Case {
    std::shared_ptr<tg::SpatialDropout> layer;
    Shape input;
    bool channels_first;
  };
  const Case cases[] = {
      {std::make_shared<tg::SpatialDropout1D>(0.3f, tg::SpatialDropoutOptions{.seed = 1}), {64, 9, 16}, false},
      {std::make_shared<tg::SpatialDropout1D>(0.3f, tg::SpatialDropoutOptions{.data_format = "channels_first", .seed = 2}),
       {64, 16, 9},
       true},
      {std::make_shared<tg::SpatialDropout2D>(0.3f, tg::SpatialDropoutOptions{.seed = 3}), {64, 5, 4, 16}, false},
      {std::make_shared<tg::SpatialDropout2D>(0.3f, tg::SpatialDropoutOptions{.data_format = "channels_first", .seed = 4}),
       {64, 16, 5, 4},
       true},
      {std::make_shared<tg::SpatialDropout3D>(0.3f, tg::SpatialDropoutOptions{.seed = 5}), {64, 3, 3, 2, 16}, false},
      {std::make_shared<tg::SpatialDropout3D>(0.3f, tg::SpatialDropoutOptions{.data_format = "channels_first", .seed = 6}),
       {64, 16, 3, 3, 2},
       true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.layer->type() + (c.channels_first ? " channels_first" : " channels_last"));
    // Many draws: 20 calls of 64 x 16 channels = 20480 Bernoulli(0.3); stddev of the fraction 0.0032.
    double fraction = 0.0;
    for (int call = 0; call < 20; ++call)
      fraction += check_whole_channels((*c.layer)(Variable(Tensor::ones(c.input)), true).value(), c.channels_first, 0.3f);
    EXPECT_NEAR(fraction / 20, 0.3, 0.015);
  }
}

TEST(SpatialDropout, IdentityAtInference) {
  tg::SpatialDropout2D d(0.5f);
  const Tensor x = Tensor::arange(2 * 3 * 3 * 4).reshape({2, 3, 3, 4});
  EXPECT_TRUE(tg::allclose(d(Variable(x), false).value(), x, 0, 0));
}

TEST(SpatialDropout, GradcheckWithAFixedMask) {
  tg::SpatialDropout2D d(0.5f, {.seed = 9});
  const tg::Rng::State fixed = d.rng().state();
  // Restoring the generator before every call replays the same mask for all of gradcheck's runs.
  const auto f = [&](const Vars& v) {
    d.rng().set_state(fixed);
    return d(v[0], true);
  };
  tg::Rng rng(1);
  const Tensor x = Tensor::randn({3, 4, 4, 5}, rng);
  const Tensor y = f({Variable(x)}).value();
  EXPECT_GT(tg::sum_all(tg::equal(y, Tensor::scalar(0.0f))), 0.0) << "some channel dropped";
  EXPECT_TRUE(gradcheck_strength::passes(f, {x}));
  EXPECT_TRUE(gradcheck_strength::detects_10_percent_error(f, {x}));
}

TEST(SpatialDropout, Errors) {
  tg::SpatialDropout2D d(0.5f, {.name = "sd"});
  EXPECT_ERROR(d(Variable(Tensor::ones({2, 5, 5})), true),
               {"SpatialDropout2D 'sd'", "(None, 5, 5)", "3 dims", "expects 4", "(batch, rows, cols, channels)"});
  EXPECT_ERROR(tg::SpatialDropout1D(0.5f, {.data_format = "nchw"}), {"SpatialDropout1D", "'nchw'", "channels_first"});
  EXPECT_ERROR(tg::SpatialDropout3D(1.0f), {"SpatialDropout3D", "rate"});
}
