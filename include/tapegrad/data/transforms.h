#pragma once
// Per-sample transforms, applied by the DataLoader on its worker threads. A transform changes one
// sample (channels_last, e.g. (rows, cols, channels)) in place and draws any randomness from the
// Rng it is given, which the loader derives from (seed, epoch, position): the same seed gives
// the same augmented batches, with any number of threads and after a resume.
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "tapegrad/core/rng.h"
#include "tapegrad/core/shape.h"

namespace tapegrad::data {

// A per-sample function with a description of what it does ("compose(scale(0.00392157),
// random_flip())"). A checkpoint records the description with the loader's position, so resuming
// with other augmentation is an error instead of a silently different run; a plain callable is
// described as "custom" unless given a description.
class Transform {
 public:
  using Fn = std::function<void(float* sample, const Shape& shape, Rng& rng)>;
  Transform() = default;
  template <class F, class = std::enable_if_t<std::is_invocable_v<F&, float*, const Shape&, Rng&> &&
                                              !std::is_same_v<std::decay_t<F>, Transform>>>
  Transform(F fn, std::string description = "custom")  // NOLINT: a callable is a transform
      : fn_(std::move(fn)), description_(std::move(description)) {}

  explicit operator bool() const { return static_cast<bool>(fn_); }
  void operator()(float* sample, const Shape& shape, Rng& rng) const { fn_(sample, shape, rng); }
  // "" for no transform.
  const std::string& description() const { return description_; }

 private:
  Fn fn_;
  std::string description_;
};

// Applies each in order.
Transform compose(std::vector<Transform> transforms);
// x * factor; the default maps 0..255 pixels to [0, 1].
Transform scale(float factor = 1.0f / 255.0f);
// (x - mean[c]) / stddev[c] per channel (the last dim); one value each applies to all channels.
Transform normalize(std::vector<float> mean, std::vector<float> stddev);
// Pads rows and cols with `padding` zeros on each side and crops a random window of the
// original size (the CIFAR augmentation).
Transform random_crop(int64_t padding);
// Mirrors left-right with probability 1/2.
Transform random_flip();
// Shifts by a random offset of up to height_factor * rows and width_factor * cols pixels (Keras'
// RandomTranslation with fill_mode "constant", fill 0).
Transform random_translation(float height_factor, float width_factor);
// random_crop(padding) then random_flip().
Transform random_crop_flip(int64_t padding);

}  // namespace tapegrad::data
