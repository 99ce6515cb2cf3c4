#pragma once
// Per-sample transforms, applied by the DataLoader on its worker threads. A transform changes one
// sample (channels_last, e.g. (rows, cols, channels)) in place and draws any randomness from the
// Rng it is given, which the loader derives from (seed, epoch, position): the same seed gives
// the same augmented batches, with any number of threads and after a resume.
#include <functional>
#include <vector>

#include "tapegrad/core/rng.h"
#include "tapegrad/core/shape.h"

namespace tapegrad::data {

using Transform = std::function<void(float* sample, const Shape& shape, Rng& rng)>;

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
