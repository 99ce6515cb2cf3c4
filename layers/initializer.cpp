#include "layers/initializer.h"

#include <cmath>
#include <algorithm>
#include <map>
#include <tuple>

#include "core/error.h"

namespace tapegrad {

namespace {

// Keras' TruncatedNormal: normal draws, those beyond two standard deviations redrawn.
Tensor truncated_normal(const Shape& shape, Rng& rng, float stddev) {
  Tensor t = Tensor::randn(shape, rng, 0.0f, stddev);
  float* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i)
    while (std::fabs(p[i]) > 2.0f * stddev) p[i] = rng.normal(0.0f, stddev);
  return t;
}

const std::map<std::string, InitializerFn>& registry() {
  static const std::map<std::string, InitializerFn> names = {
      {"zeros", [](const Shape& s, Rng&) { return Tensor::zeros(s); }},
      {"ones", [](const Shape& s, Rng&) { return Tensor::ones(s); }},
      {"random_normal", [](const Shape& s, Rng& r) { return Tensor::randn(s, r, 0.0f, 0.05f); }},
      {"random_uniform", [](const Shape& s, Rng& r) { return Tensor::rand(s, r, -0.05f, 0.05f); }},
      {"truncated_normal", [](const Shape& s, Rng& r) { return truncated_normal(s, r, 0.05f); }},
  };
  return names;
}

// The VarianceScaling family, by Keras name.
const std::map<std::string, std::tuple<double, const char*, const char*>>& scaled() {
  static const std::map<std::string, std::tuple<double, const char*, const char*>> names = {
      {"glorot_uniform", {1.0, "fan_avg", "uniform"}},   {"glorot_normal", {1.0, "fan_avg", "truncated_normal"}},
      {"he_uniform", {2.0, "fan_in", "uniform"}},        {"he_normal", {2.0, "fan_in", "truncated_normal"}},
      {"lecun_uniform", {1.0, "fan_in", "uniform"}},     {"lecun_normal", {1.0, "fan_in", "truncated_normal"}},
  };
  return names;
}

std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
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
  if (!(scale > 0)) fail("variance_scaling", "scale must be positive, got " + std::to_string(scale));
  if (mode != "fan_in" && mode != "fan_out" && mode != "fan_avg")
    fail("variance_scaling", "unknown mode '" + mode + "'; known: fan_avg, fan_in, fan_out");
  if (distribution != "truncated_normal" && distribution != "untruncated_normal" && distribution != "uniform")
    fail("variance_scaling", "unknown distribution '" + distribution + "'; known: truncated_normal, uniform, untruncated_normal");
  return Initializer(
      [scale, mode, distribution](const Shape& shape, Rng& rng) {
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
        return truncated_normal(shape, rng, static_cast<float>(std::sqrt(variance) / 0.87962566103423978));
      },
      "variance_scaling");
}

Initializer::Initializer(const char* name) : Initializer(std::string(name)) {}

Initializer::Initializer(const std::string& name) : name_(name) {
  if (const auto it = registry().find(name); it != registry().end()) {
    fn_ = it->second;
  } else if (const auto vs = scaled().find(name); vs != scaled().end()) {
    const auto& [scale, mode, distribution] = vs->second;
    fn_ = [inner = variance_scaling(scale, mode, distribution)](const Shape& s, Rng& r) { return inner(s, r); };
  } else {
    fail("Initializer", "unknown initializer '" + name + "'; known: " + joined(initializer_names()));
  }
}

Initializer::Initializer(InitializerFn fn, std::string name) : name_(std::move(name)), fn_(std::move(fn)) {
  if (!fn_) fail("Initializer", "the custom initializer '" + name_ + "' is empty");
}

std::vector<std::string> initializer_names() {
  std::vector<std::string> names;
  for (const auto& [name, fn] : registry()) names.push_back(name);
  for (const auto& [name, spec] : scaled()) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace tapegrad
