#pragma once
// Initializer: makes a weight tensor of a shape, with Keras' formulas. Given by name
// ("glorot_uniform"), by a factory with Keras' arguments (initializers::HeNormal(/*seed=*/7)),
// or as any callable Tensor(const Shape&, Rng&). Fans follow Keras: for a kernel of shape
// (..receptive field.., in, out), fan_in = receptive * in, fan_out = receptive * out.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor.h"
#include "tapegrad/layers/keras_config.h"

namespace tapegrad {

using InitializerFn = std::function<Tensor(const Shape&, Rng&)>;

struct Fans {
  double fan_in = 1, fan_out = 1;
};
Fans compute_fans(const Shape& shape);

class Initializer {
 public:
  Initializer(const char* name);         // NOLINT: implicit, so options read `.kernel_initializer = "zeros"`
  Initializer(const std::string& name);  // NOLINT
  Initializer(InitializerFn fn, std::string name = "custom");

  Tensor operator()(const Shape& shape, Rng& rng) const { return fn_(shape, rng); }
  const std::string& name() const { return name_; }

  // Keras' class and arguments (architecture JSON): set by the names and the factories below;
  // empty for a custom callable unless described().
  const std::optional<KerasObjectConfig>& keras_config() const { return keras_config_; }
  Initializer described(KerasObjectConfig config) && {
    keras_config_ = std::move(config);
    return std::move(*this);
  }

 private:
  std::string name_;
  InitializerFn fn_;
  std::optional<KerasObjectConfig> keras_config_;
};

// Keras' VarianceScaling: scale / fan (fan per `mode`: "fan_in", "fan_out", "fan_avg"), drawn
// from "truncated_normal" (alias "normal"), "untruncated_normal" or "uniform".
Initializer variance_scaling(double scale, const std::string& mode, const std::string& distribution);

std::vector<std::string> initializer_names();

// Keras' initializer classes as factories, with Keras' argument names and defaults. A given seed
// makes the initializer deterministic: every call draws from a fresh Rng(seed) and so returns the
// same values (as Keras 2 seeded initializers); without a seed it draws from the Rng it is handed
// (Layer::add_weight passes default_rng(), see manual_seed()).
namespace initializers {
using Seed = std::optional<uint64_t>;

Initializer Zeros();
Initializer Ones();
Initializer Constant(float value = 0.0f);
Initializer RandomNormal(float mean = 0.0f, float stddev = 0.05f, Seed seed = std::nullopt);
Initializer RandomUniform(float minval = -0.05f, float maxval = 0.05f, Seed seed = std::nullopt);
// Normal draws beyond two standard deviations from the mean are redrawn.
Initializer TruncatedNormal(float mean = 0.0f, float stddev = 0.05f, Seed seed = std::nullopt);
Initializer VarianceScaling(double scale = 1.0, const std::string& mode = "fan_in",
                            const std::string& distribution = "truncated_normal", Seed seed = std::nullopt);
Initializer GlorotNormal(Seed seed = std::nullopt);   // VarianceScaling(1, fan_avg, truncated_normal)
Initializer GlorotUniform(Seed seed = std::nullopt);  // VarianceScaling(1, fan_avg, uniform)
Initializer HeNormal(Seed seed = std::nullopt);       // VarianceScaling(2, fan_in, truncated_normal)
Initializer HeUniform(Seed seed = std::nullopt);      // VarianceScaling(2, fan_in, uniform)
Initializer LecunNormal(Seed seed = std::nullopt);    // VarianceScaling(1, fan_in, truncated_normal)
Initializer LecunUniform(Seed seed = std::nullopt);   // VarianceScaling(1, fan_in, uniform)
// gain * Q of the QR decomposition of a normal matrix (prod(shape[:-1]), shape[-1]), its columns'
// signs fixed by R's diagonal (Saxe et al.): orthonormal rows or columns, whichever are fewer.
Initializer Orthogonal(float gain = 1.0f, Seed seed = std::nullopt);
// gain * the (possibly rectangular) identity matrix; 2-D shapes only.
Initializer Identity(float gain = 1.0f);
}  // namespace initializers

}  // namespace tapegrad
