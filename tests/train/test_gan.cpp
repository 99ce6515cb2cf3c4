// A GAN on 2-D data, written the way a PyTorch user writes it: the generator's output is computed
// once per step and reused, detached for the discriminator's step and attached for the
// generator's; two models, two optimizers, one thread. Before graphs were per loss, the
// discriminator's backward freed the generator's graph and the generator learnt nothing.
#include <gtest/gtest.h>

#include <cmath>

#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/dense.h"
#include "tapegrad/layers/sequential.h"
#include "tapegrad/optim/adam.h"
#include "tapegrad/train/losses.h"

namespace tg = tapegrad;
using tg::Tensor;
using tg::Variable;

namespace {

constexpr float kMeanX = 2.0f, kMeanY = -1.0f, kStd = 0.5f;
// Adam with beta_1 = 0.5 (Radford et al.) and a cosine-decayed rate, which damps the oscillation of
// the two players at the end. A GAN amplifies rounding: the run is deterministic for one build,
// but the native (AVX-512) and portable kernels round differently in the last bits, and the end
// state differs. Over eight seeds and both builds, the radius ended up to 23% off and the mean
// within 5%: so the radius is held to 35% (a collapsed generator's is near zero) and the mean to
// 10% (a generator that learns nothing stays near where it starts, the origin, 2.2 away).
constexpr int kSteps = 3000;
constexpr float kLr = 1e-3f;

// Mean and radius (RMS distance from the mean) of a (n, 2) sample.
std::pair<std::array<double, 2>, double> moments(const Tensor& s) {
  const int64_t n = s.dim(0);
  std::array<double, 2> m{0, 0};
  for (int64_t i = 0; i < n; ++i)
    for (int k = 0; k < 2; ++k) m[k] += s.data()[i * 2 + k] / static_cast<double>(n);
  double r2 = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int k = 0; k < 2; ++k) r2 += std::pow(s.data()[i * 2 + k] - m[k], 2) / static_cast<double>(n);
  return {m, std::sqrt(r2)};
}

}  // namespace

TEST(Gan, TheGeneratorReachesTheTargetDistribution) {
  tg::manual_seed(7);
  tg::Sequential generator({tg::Dense(32, {.activation = "relu"}), tg::Dense(32, {.activation = "relu"}), tg::Dense(2)},
                           {.name = "generator"});
  tg::Sequential discriminator({tg::Dense(32, {.activation = "relu"}), tg::Dense(32, {.activation = "relu"}), tg::Dense(1)},
                               {.name = "discriminator"});
  generator.build({2});
  discriminator.build({2});
  tg::Adam opt_g(generator.parameters(), {.learning_rate = tg::CosineDecay(kLr, kSteps), .beta_1 = 0.5f});
  tg::Adam opt_d(discriminator.parameters(), {.learning_rate = tg::CosineDecay(kLr, kSteps), .beta_1 = 0.5f});
  tg::Rng rng(3);
  const int64_t batch = 128;
  const Tensor ones = Tensor::ones({batch, 1}), zeros = Tensor::zeros({batch, 1});
  const tg::losses::CrossEntropyOptions logits{.from_logits = true};
  for (int step = 0; step < kSteps; ++step) {
    Tensor real = Tensor::randn({batch, 2}, rng, 0.0f, kStd);
    for (int64_t i = 0; i < batch; ++i) {
      real.data()[2 * i] += kMeanX;
      real.data()[2 * i + 1] += kMeanY;
    }
    const Variable fake = generator(Variable(Tensor::randn({batch, 2}, rng)), true);

    // The discriminator's step: fake detached, so its backward stops there.
    const Variable d_loss = tg::losses::binary_crossentropy(ones, discriminator(Variable(real), true), logits) +
                            tg::losses::binary_crossentropy(zeros, discriminator(fake.detach(), true), logits);
    opt_d.zero_grad();
    d_loss.backward();
    opt_d.step();

    // The generator's step reuses fake, whose graph the discriminator's backward left alone.
    const Variable g_loss = tg::losses::binary_crossentropy(ones, discriminator(fake, true), logits);
    opt_g.zero_grad();
    g_loss.backward();
    ASSERT_TRUE(generator.parameters()[0]->var.grad().defined()) << "step " << step << ": the generator got no gradient";
    opt_g.step();
  }
  Tensor samples;
  {
    tg::NoGradGuard no_grad;
    samples = generator(Variable(Tensor::randn({4000, 2}, rng))).value();
  }
  const auto [mean, radius] = moments(samples);
  const double target_radius = kStd * std::sqrt(2.0);
  const double target_norm = std::hypot(kMeanX, kMeanY);
  EXPECT_LT(std::hypot(mean[0] - kMeanX, mean[1] - kMeanY), 0.1 * target_norm) << mean[0] << ", " << mean[1];
  EXPECT_NEAR(radius, target_radius, 0.35 * target_radius);
}
