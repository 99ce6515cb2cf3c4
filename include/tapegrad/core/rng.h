#pragma once
// Rng: a counter-based generator (Philox4x32-10). Its whole state is two integers (seed and
// counter), so it saves and restores exactly, and block k of the stream can be computed without
// computing blocks 0..k-1: parallel fills give the same numbers with any number of threads.
#include <array>
#include <cstdint>

namespace tapegrad {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : seed_(seed) {}

  struct State {
    uint64_t seed = 0;
    uint64_t counter = 0;  // 128-bit blocks consumed so far
    bool operator==(const State&) const = default;
  };
  State state() const { return {seed_, counter_}; }
  void set_state(const State& s) { seed_ = s.seed, counter_ = s.counter; }

  // One Philox block: four independent 32-bit words for (key, counter). Pure function.
  static std::array<uint32_t, 4> block(uint64_t key, uint64_t counter);
  // Blocks counter .. counter + n - 1, their words in order: words[4 * j + w] is word w of
  // block counter + j. Equal to calling block() n times; 16 blocks at a time with AVX-512.
  static void blocks(uint64_t key, uint64_t counter, int64_t n, uint32_t* words);

  // Single draws; each consumes one block.
  uint32_t next_u32();
  // Uniform in [0, 1).
  double uniform();
  // Uniform integer in [0, n); n >= 1.
  uint64_t uniform_int(uint64_t n);
  float normal(float mean = 0.0f, float stddev = 1.0f);

  // Bulk fills: element i is drawn from block counter + i / 4, so the result is independent of
  // how the work is split across threads. Each consumes ceil(n / 4) blocks.
  void fill_uniform(float* out, int64_t n, float low, float high);
  void fill_normal(float* out, int64_t n, float mean, float stddev);

  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar & seed_ & counter_;
  }

 private:
  uint64_t seed_ = 0;
  uint64_t counter_ = 0;
};

}  // namespace tapegrad

namespace tapegrad {
// The process-wide generator that initializers draw from when no seed is given (as Keras' and
// PyTorch's global seed). Not thread-safe: build models on one thread.
Rng& default_rng();
// Restarts default_rng() from `seed`, like torch::manual_seed / keras.utils.set_random_seed.
void manual_seed(uint64_t seed);
}  // namespace tapegrad
