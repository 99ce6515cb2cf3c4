#pragma once
// Initializer: makes a weight tensor of a shape, with Keras' formulas. Given by name
// ("glorot_uniform") or as any callable Tensor(const Shape&, Rng&). Fans follow Keras: for a
// kernel of shape (..receptive field.., in, out), fan_in = receptive * in, fan_out = receptive * out.
#include <functional>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"

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

 private:
  std::string name_;
  InitializerFn fn_;
};

// Keras' VarianceScaling: scale / fan (fan per `mode`: "fan_in", "fan_out", "fan_avg"), drawn
// from "truncated_normal", "untruncated_normal" or "uniform".
Initializer variance_scaling(double scale, const std::string& mode, const std::string& distribution);

std::vector<std::string> initializer_names();

}  // namespace tapegrad
