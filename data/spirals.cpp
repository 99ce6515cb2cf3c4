#include "tapegrad/data/spirals.h"

#include <cmath>

#include "tapegrad/core/error.h"
#include "tapegrad/core/rng.h"

namespace tapegrad::data {

Points two_spirals(int64_t per_class, uint64_t seed, float noise, float turns) {
  if (per_class < 1) fail("two_spirals", "per_class must be positive, got " + std::to_string(per_class));
  Rng rng(seed);
  Points p{Tensor::empty({2 * per_class, 2}), Tensor::empty({2 * per_class})};
  constexpr double kPi = 3.14159265358979323846;
  for (int64_t c = 0; c < 2; ++c) {
    for (int64_t i = 0; i < per_class; ++i) {
      // Radius grows with the angle; the second spiral is the first turned by half a circle.
      const double t = 0.25 + 0.75 * static_cast<double>(i) / static_cast<double>(per_class);
      const double angle = t * turns * 2.0 * kPi + static_cast<double>(c) * kPi;
      const int64_t row = c * per_class + i;
      p.x.data()[2 * row] = static_cast<float>(t * std::cos(angle)) + rng.normal(0.0f, noise);
      p.x.data()[2 * row + 1] = static_cast<float>(t * std::sin(angle)) + rng.normal(0.0f, noise);
      p.y.data()[row] = static_cast<float>(c);
    }
  }
  return p;
}

}  // namespace tapegrad::data
