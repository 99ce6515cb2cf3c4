#include "tapegrad/data/transforms.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "tapegrad/core/error.h"

namespace tapegrad::data {

namespace {

struct Image {
  int64_t rows, cols, channels;
};

Image image_of(const Shape& s, const char* op) {
  if (s.rank() != 3) fail(op, "expects (rows, cols, channels) samples, got " + s.str());
  return {s[0], s[1], s[2]};
}

// A per-thread copy of the sample, so shifts can read the original while writing.
float* scratch_copy(const float* src, int64_t n) {
  thread_local std::vector<float> buffer;
  if (buffer.size() < static_cast<size_t>(n)) buffer.resize(static_cast<size_t>(n));
  std::memcpy(buffer.data(), src, static_cast<size_t>(n) * sizeof(float));
  return buffer.data();
}

// out(r, c) = in(r + dr, c + dc), zero where that falls outside.
void shift(float* x, const Image& im, int64_t dr, int64_t dc) {
  if (dr == 0 && dc == 0) return;
  const int64_t row = im.cols * im.channels;
  const float* in = scratch_copy(x, im.rows * row);
  for (int64_t r = 0; r < im.rows; ++r) {
    float* out = x + r * row;
    const int64_t sr = r + dr;
    if (sr < 0 || sr >= im.rows) {
      std::fill(out, out + row, 0.0f);
      continue;
    }
    for (int64_t c = 0; c < im.cols; ++c) {
      const int64_t sc = c + dc;
      float* o = out + c * im.channels;
      if (sc < 0 || sc >= im.cols)
        std::fill(o, o + im.channels, 0.0f);
      else
        std::memcpy(o, in + sr * row + sc * im.channels, static_cast<size_t>(im.channels) * sizeof(float));
    }
  }
}

std::string number(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(v));
  return buf;
}

std::string list(const std::vector<float>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + number(v[i]);
  return s + "]";
}

}  // namespace

Transform compose(std::vector<Transform> transforms) {
  std::string description = "compose(";
  for (size_t i = 0; i < transforms.size(); ++i) {
    if (!transforms[i]) fail("compose", "an empty transform was given");
    description += (i ? ", " : "") + transforms[i].description();
  }
  return Transform([transforms = std::move(transforms)](float* x, const Shape& s, Rng& rng) {
    for (const auto& t : transforms) t(x, s, rng);
  }, description + ")");
}

Transform scale(float factor) {
  return Transform([factor](float* x, const Shape& s, Rng&) {
    for (int64_t i = 0; i < s.numel(); ++i) x[i] *= factor;
  }, "scale(" + number(factor) + ")");
}

Transform normalize(std::vector<float> mean, std::vector<float> stddev) {
  if (mean.empty() || mean.size() != stddev.size())
    fail("normalize", "needs as many means as standard deviations, got " + std::to_string(mean.size()) + " and " +
                          std::to_string(stddev.size()));
  for (float s : stddev)
    if (!(s > 0.0f)) fail("normalize", "standard deviations must be positive");
  const std::string description = "normalize(" + list(mean) + ", " + list(stddev) + ")";
  return Transform([mean = std::move(mean), stddev = std::move(stddev)](float* x, const Shape& s, Rng&) {
    const int64_t c = s.rank() ? s[s.rank() - 1] : 1;
    if (mean.size() != 1 && static_cast<int64_t>(mean.size()) != c)
      fail("normalize", std::to_string(mean.size()) + " means given for samples " + s.str() + " with " + std::to_string(c) + " channels");
    for (int64_t i = 0; i < s.numel(); ++i) {
      const size_t k = mean.size() == 1 ? 0 : static_cast<size_t>(i % c);
      x[i] = (x[i] - mean[k]) / stddev[k];
    }
  }, description);
}

Transform random_crop(int64_t padding) {
  if (padding < 0) fail("random_crop", "padding must be non-negative, got " + std::to_string(padding));
  return Transform([padding](float* x, const Shape& s, Rng& rng) {
    const Image im = image_of(s, "random_crop");
    // The window's top-left corner in the padded image is (dr, dc) in [0, 2 * padding].
    const int64_t dr = static_cast<int64_t>(rng.uniform_int(static_cast<uint64_t>(2 * padding + 1))) - padding;
    const int64_t dc = static_cast<int64_t>(rng.uniform_int(static_cast<uint64_t>(2 * padding + 1))) - padding;
    shift(x, im, dr, dc);
  }, "random_crop(" + std::to_string(padding) + ")");
}

Transform random_flip() {
  return Transform([](float* x, const Shape& s, Rng& rng) {
    const Image im = image_of(s, "random_flip");
    if (rng.uniform() >= 0.5) return;
    for (int64_t r = 0; r < im.rows; ++r) {
      float* row = x + r * im.cols * im.channels;
      for (int64_t a = 0, b = im.cols - 1; a < b; ++a, --b)
        for (int64_t c = 0; c < im.channels; ++c) std::swap(row[a * im.channels + c], row[b * im.channels + c]);
    }
  }, "random_flip()");
}

Transform random_translation(float height_factor, float width_factor) {
  if (!(height_factor >= 0.0f && height_factor <= 1.0f && width_factor >= 0.0f && width_factor <= 1.0f))
    fail("random_translation", "factors must be in [0, 1]");
  return Transform([height_factor, width_factor](float* x, const Shape& s, Rng& rng) {
    const Image im = image_of(s, "random_translation");
    const int64_t max_r = static_cast<int64_t>(std::floor(height_factor * static_cast<float>(im.rows)));
    const int64_t max_c = static_cast<int64_t>(std::floor(width_factor * static_cast<float>(im.cols)));
    const int64_t dr = static_cast<int64_t>(rng.uniform_int(static_cast<uint64_t>(2 * max_r + 1))) - max_r;
    const int64_t dc = static_cast<int64_t>(rng.uniform_int(static_cast<uint64_t>(2 * max_c + 1))) - max_c;
    shift(x, im, dr, dc);
  }, "random_translation(" + number(height_factor) + ", " + number(width_factor) + ")");
}

Transform random_crop_flip(int64_t padding) { return compose({random_crop(padding), random_flip()}); }

}  // namespace tapegrad::data
