#include "tapegrad/layers/initializer.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "tapegrad/core/error.h"

namespace tapegrad {

namespace {

// Keras' TruncatedNormal: normal draws, those beyond two standard deviations redrawn.
Tensor truncated_normal(const Shape& shape, Rng& rng, float mean, float stddev) {
  Tensor t = Tensor::randn(shape, rng, 0.0f, stddev);
  float* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) {
    while (std::fabs(p[i]) > 2.0f * stddev) p[i] = rng.normal(0.0f, stddev);
    p[i] += mean;
  }
  return t;
}

// With a seed: a fresh generator per call (same values every call). Without: the caller's.
InitializerFn seeded(initializers::Seed seed, InitializerFn fn) {
  if (!seed) return fn;
  return [s = *seed, fn = std::move(fn)](const Shape& shape, Rng&) {
    Rng own(s);
    return fn(shape, own);
  };
}

ConfigValue seed_value(initializers::Seed seed) {
  if (!seed) return nullptr;
  return static_cast<int64_t>(*seed);
}

std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

// Every name, with Keras' default arguments; aliases as in Keras 2 (normal, uniform).
const std::map<std::string, std::function<Initializer()>>& registry() {
  using namespace initializers;
  static const std::map<std::string, std::function<Initializer()>> names = {
      {"zeros", [] { return Zeros(); }},
      {"ones", [] { return Ones(); }},
      {"constant", [] { return Constant(); }},
      {"random_normal", [] { return RandomNormal(); }},
      {"normal", [] { return RandomNormal(); }},
      {"random_uniform", [] { return RandomUniform(); }},
      {"uniform", [] { return RandomUniform(); }},
      {"truncated_normal", [] { return TruncatedNormal(); }},
      {"variance_scaling", [] { return VarianceScaling(); }},
      {"glorot_normal", [] { return GlorotNormal(); }},
      {"glorot_uniform", [] { return GlorotUniform(); }},
      {"he_normal", [] { return HeNormal(); }},
      {"he_uniform", [] { return HeUniform(); }},
      {"lecun_normal", [] { return LecunNormal(); }},
      {"lecun_uniform", [] { return LecunUniform(); }},
      {"orthogonal", [] { return Orthogonal(); }},
      {"identity", [] { return Identity(); }},
  };
  return names;
}

InitializerFn variance_scaling_fn(double scale, const std::string& mode, const std::string& distribution) {
  if (!(scale > 0)) fail("variance_scaling", "scale must be positive, got " + std::to_string(scale));
  if (mode != "fan_in" && mode != "fan_out" && mode != "fan_avg")
    fail("variance_scaling", "unknown mode '" + mode + "'; known: fan_avg, fan_in, fan_out");
  if (distribution != "truncated_normal" && distribution != "normal" && distribution != "untruncated_normal" &&
      distribution != "uniform")
    fail("variance_scaling", "unknown distribution '" + distribution +
                                 "'; known: normal, truncated_normal, uniform, untruncated_normal");
  return [scale, mode, distribution](const Shape& shape, Rng& rng) {
    const Fans f = compute_fans(shape);
    const double fan = mode == "fan_in" ? f.fan_in : mode == "fan_out" ? f.fan_out : (f.fan_in + f.fan_out) / 2;
    const double variance = scale / std::max(1.0, fan);
    if (distribution == "uniform") {
      const float limit = static_cast<float>(std::sqrt(3.0 * variance));
      return Tensor::rand(shape, rng, -limit, limit);
    }
    if (distribution == "untruncated_normal")
      return Tensor::randn(shape, rng, 0.0f, static_cast<float>(std::sqrt(variance)));
    // Keras divides by the stddev of a unit normal truncated at +-2, so the variance is exact.
    return truncated_normal(shape, rng, 0.0f, static_cast<float>(std::sqrt(variance) / 0.87962566103423978));
  };
}

}  // namespace

Fans compute_fans(const Shape& shape) {
  if (shape.rank() == 0) return {1, 1};
  if (shape.rank() == 1) return {static_cast<double>(shape[0]), static_cast<double>(shape[0])};
  double receptive = 1;
  for (int i = 0; i + 2 < shape.rank(); ++i) receptive *= static_cast<double>(shape[i]);
  return {receptive * static_cast<double>(shape[shape.rank() - 2]), receptive * static_cast<double>(shape[shape.rank() - 1])};
}

Initializer variance_scaling(double scale, const std::string& mode, const std::string& distribution) {
  return initializers::VarianceScaling(scale, mode, distribution);
}

Initializer::Initializer(const char* name) : Initializer(std::string(name)) {}

Initializer::Initializer(const std::string& name) : name_(name) {
  const auto it = registry().find(name);
  if (it == registry().end()) fail("Initializer", "unknown initializer '" + name + "'; known: " + joined(initializer_names()));
  Initializer made = it->second();
  fn_ = std::move(made.fn_);
  keras_config_ = std::move(made.keras_config_);
}

Initializer::Initializer(InitializerFn fn, std::string name) : name_(std::move(name)), fn_(std::move(fn)) {
  if (!fn_) fail("Initializer", "the custom initializer '" + name_ + "' is empty");
}

std::vector<std::string> initializer_names() {
  std::vector<std::string> names;
  for (const auto& [name, make] : registry()) names.push_back(name);
  return names;  // std::map: sorted
}

namespace initializers {

Initializer Zeros() {
  return Initializer([](const Shape& s, Rng&) { return Tensor::zeros(s); }, "zeros").described({"Zeros", {}});
}

Initializer Ones() {
  return Initializer([](const Shape& s, Rng&) { return Tensor::ones(s); }, "ones").described({"Ones", {}});
}

Initializer Constant(float value) {
  return Initializer([value](const Shape& s, Rng&) { return Tensor::full(s, value); }, "constant").described({"Constant", {{"value", shortest_decimal(value)}}});
}

Initializer RandomNormal(float mean, float stddev, Seed seed) {
  if (!(stddev >= 0.0f)) fail("RandomNormal", "stddev must be >= 0, got " + std::to_string(stddev));
  return Initializer(seeded(seed, [mean, stddev](const Shape& s, Rng& r) { return Tensor::randn(s, r, mean, stddev); }),
                     "random_normal")
      .described({"RandomNormal", {{"mean", shortest_decimal(mean)}, {"stddev", shortest_decimal(stddev)}, {"seed", seed_value(seed)}}});
}

Initializer RandomUniform(float minval, float maxval, Seed seed) {
  if (!(minval < maxval))
    fail("RandomUniform", "minval must be below maxval, got " + std::to_string(minval) + " and " + std::to_string(maxval));
  return Initializer(seeded(seed, [minval, maxval](const Shape& s, Rng& r) { return Tensor::rand(s, r, minval, maxval); }),
                     "random_uniform")
      .described({"RandomUniform", {{"minval", shortest_decimal(minval)}, {"maxval", shortest_decimal(maxval)}, {"seed", seed_value(seed)}}});
}

Initializer TruncatedNormal(float mean, float stddev, Seed seed) {
  if (!(stddev > 0.0f)) fail("TruncatedNormal", "stddev must be positive, got " + std::to_string(stddev));
  return Initializer(
      seeded(seed, [mean, stddev](const Shape& s, Rng& r) { return truncated_normal(s, r, mean, stddev); }),
      "truncated_normal")
      .described({"TruncatedNormal", {{"mean", shortest_decimal(mean)}, {"stddev", shortest_decimal(stddev)}, {"seed", seed_value(seed)}}});
}

Initializer VarianceScaling(double scale, const std::string& mode, const std::string& distribution, Seed seed) {
  return Initializer(seeded(seed, variance_scaling_fn(scale, mode, distribution)), "variance_scaling")
      .described({"VarianceScaling", {{"scale", scale}, {"mode", mode}, {"distribution", distribution == "normal" ? std::string("truncated_normal") : distribution}, {"seed", seed_value(seed)}}});
}

Initializer GlorotNormal(Seed seed) {
  return Initializer(seeded(seed, variance_scaling_fn(1.0, "fan_avg", "truncated_normal")), "glorot_normal").described({"GlorotNormal", {{"seed", seed_value(seed)}}});
}
Initializer GlorotUniform(Seed seed) {
  return Initializer(seeded(seed, variance_scaling_fn(1.0, "fan_avg", "uniform")), "glorot_uniform").described({"GlorotUniform", {{"seed", seed_value(seed)}}});
}
Initializer HeNormal(Seed seed) {
  return Initializer(seeded(seed, variance_scaling_fn(2.0, "fan_in", "truncated_normal")), "he_normal").described({"HeNormal", {{"seed", seed_value(seed)}}});
}
Initializer HeUniform(Seed seed) {
  return Initializer(seeded(seed, variance_scaling_fn(2.0, "fan_in", "uniform")), "he_uniform").described({"HeUniform", {{"seed", seed_value(seed)}}});
}
Initializer LecunNormal(Seed seed) {
  return Initializer(seeded(seed, variance_scaling_fn(1.0, "fan_in", "truncated_normal")), "lecun_normal").described({"LecunNormal", {{"seed", seed_value(seed)}}});
}
Initializer LecunUniform(Seed seed) {
  return Initializer(seeded(seed, variance_scaling_fn(1.0, "fan_in", "uniform")), "lecun_uniform").described({"LecunUniform", {{"seed", seed_value(seed)}}});
}

Initializer Orthogonal(float gain, Seed seed) {
  return Initializer(
      seeded(seed,
             [gain](const Shape& shape, Rng& rng) {
               if (shape.rank() < 2)
                 fail("Orthogonal", "needs a shape of at least 2 dims, got " + shape.str());
               const int64_t cols = shape[shape.rank() - 1], rows = shape.numel() / std::max<int64_t>(cols, 1);
               const int64_t tall = std::max(rows, cols), narrow = std::min(rows, cols);
               Tensor draws = Tensor::randn({tall, narrow}, rng);
               using Mat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
               Mat a = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
                           draws.data(), tall, narrow)
                           .cast<double>();
               Eigen::HouseholderQR<Mat> qr(a);
               Mat q = qr.householderQ() * Mat::Identity(tall, narrow);
               const Mat r = qr.matrixQR().topRows(narrow).triangularView<Eigen::Upper>();
               // Make the decomposition unique (and Q uniform over orthogonal matrices).
               for (int64_t j = 0; j < narrow; ++j)
                 if (r(j, j) < 0) q.col(j) *= -1.0;
               if (rows < cols) q.transposeInPlace();
               Tensor out = Tensor::empty(shape);
               Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(out.data(), rows,
                                                                                                 cols) =
                   (q * static_cast<double>(gain)).cast<float>();
               return out;
             }),
      "orthogonal").described({"Orthogonal", {{"gain", shortest_decimal(gain)}, {"seed", seed_value(seed)}}});
}

Initializer Identity(float gain) {
  return Initializer(
      [gain](const Shape& shape, Rng&) {
        if (shape.rank() != 2) fail("Identity", "needs a 2-D shape, got " + shape.str());
        Tensor out = Tensor::zeros(shape);
        for (int64_t i = 0; i < std::min(shape[0], shape[1]); ++i) out.data()[i * shape[1] + i] = gain;
        return out;
      },
      "identity").described({"Identity", {{"gain", shortest_decimal(gain)}}});
}

}  // namespace initializers

}  // namespace tapegrad
