// Dropout's two halves: drawing the mask (straight from the Philox stream, one parallel pass) and
// multiplying by it (fused for the common same-shape case, broadcast for noise shapes).
#include <algorithm>
#include <string>

#include "core/splitmix.h"
#include "tapegrad/autograd/nn_ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/parallel.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/distributed/distributed.h"

namespace tapegrad {

namespace {
constexpr int64_t kMaskChunk = 1 << 14;  // a multiple of 4: chunks start on Philox block bounds
constexpr int64_t kWordsPerPass = 1024;   // random words drawn at a time, on the stack
constexpr int64_t kGrain = 1 << 15;

// Keep (scale) where the word's top 24 bits are >= cut, else drop (0). Its own function taking
// values, not lambda captures that `out` might alias, so the loop vectorises without branches.
void threshold_words(const uint32_t* words, int64_t n, uint32_t cut, float scale, float* __restrict out) {
  for (int64_t j = 0; j < n; ++j) out[j] = (words[j] >> 8) >= cut ? scale : 0.0f;
}
}  // namespace

Tensor dropout_mask(const Shape& shape, float rate, Rng& rng) {
  if (!(rate >= 0.0f && rate < 1.0f)) fail("dropout_mask", "rate must be in [0, 1), got " + std::to_string(rate));
  Tensor mask = Tensor::empty(shape);
  const int64_t n = mask.numel();
  const Rng::State st = rng.state();
  // In a distributed job each rank draws the masks of its rows from a stream of its own, keyed
  // by (generator key, counter, rank), so that the ranks do not drop the same units of their
  // rows; the generator's counter moves on by one per mask on every rank, however unevenly a
  // batch splits, so the ranks' generators stay alike and rank 0's checkpoint continues them all
  // (with no collective: a rank may draw a mask alone). One process draws from the generator's
  // own stream.
  const bool per_rank = distributed::size() > 1;
  const uint64_t key = per_rank ? splitmix64(st.seed ^ splitmix64(st.counter ^ splitmix64(static_cast<uint64_t>(distributed::rank()) + 1))) : st.seed;
  const uint64_t first_block = per_rank ? 0 : st.counter;
  const float scale = 1.0f / (1.0f - rate);
  // Element i keeps when its uniform draw from block counter + i / 4 is >= rate, as Keras'
  // `random_uniform >= rate`. 24-bit uniforms, as Rng::fill_uniform.
  const uint32_t cut = static_cast<uint32_t>(static_cast<double>(rate) * 16777216.0);
  float* out = mask.data();
  parallel_chunks(n, kMaskChunk, [&](int64_t, int64_t lo, int64_t hi) {
    uint32_t words[kWordsPerPass];
    for (int64_t i = lo; i < hi; i += kWordsPerPass) {
      const int64_t m = std::min(kWordsPerPass, hi - i);
      Rng::blocks(key, first_block + static_cast<uint64_t>(i / 4), (m + 3) / 4, words);
      threshold_words(words, m, cut, scale, out + i);
    }
  });
  rng.set_state({st.seed, st.counter + (per_rank ? 1 : static_cast<uint64_t>((n + 3) / 4))});
  return mask;
}

namespace {
// a * b for equal shapes, in parallel (the common case: a mask drawn for the whole input).
Tensor multiply_same_shape(const Tensor& a, const Tensor& b) {
  Tensor out = Tensor::empty(a.shape());
  const float* pa = a.data();
  const float* pb = b.data();
  float* po = out.data();
  parallel_for(0, out.numel(), kGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) po[i] = pa[i] * pb[i];
  });
  return out;
}
}  // namespace

Variable apply_mask(const Variable& x, const Tensor& mask) {
  if (!x.defined() || !mask.defined()) fail("apply_mask", "input or mask is undefined");
  const Shape xs = x.shape();
  Tensor out;
  if (mask.shape() == xs) {
    out = multiply_same_shape(x.value(), mask);
  } else {
    out = mul(x.value(), mask);
    if (out.shape() != xs)
      fail("apply_mask", "mask " + mask.shape().str() + " must broadcast to the input " + xs.str() +
                             " without enlarging it");
  }
  return record("apply_mask", out, {x}, [mask](const Tensor& g, GradSink& s) {
    s.set(0, g.shape() == mask.shape() ? multiply_same_shape(g, mask) : mul(g, mask));
  });
}

}  // namespace tapegrad
