#pragma once
// pointwise: a differentiable elementwise op from a function and its derivative, for user ops
// and activations as fast as the built-in ones: one pass forward (out = f(x)), one pass backward
// (dx = g * df(x)), both inlined loops over the tensor in parallel chunks (elementwise work does
// not depend on how it is split, so results do not depend on the number of threads).
//
//   Variable mish(const Variable& x) {
//     return tg::pointwise("mish", x, [](float v) { return v * std::tanh(std::log1p(std::exp(v))); },
//                          [](float v) { ... the derivative ... });
//   }
#include <cstdint>
#include <utility>

#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/parallel.h"

namespace tapegrad {

// `name` names the op in errors and the profiler (a string literal: it is kept, not copied).
template <class F, class DF>
Variable pointwise(const char* name, const Variable& a, F f, DF df) {
  constexpr int64_t kGrain = 1 << 14;
  if (!a.defined()) fail(name, "input is undefined");
  const Tensor x = a.value();
  Tensor out = Tensor::empty(x.shape());
  {
    const float* px = x.data();
    float* po = out.data();
    parallel_for(0, x.numel(), kGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) po[i] = f(px[i]);
    });
  }
  return record(name, out, {a}, [x, df](const Tensor& g, GradSink& s) {
    Tensor dx = Tensor::empty(x.shape());
    const float* px = x.data();
    const float* pg = g.data();
    float* pd = dx.data();
    parallel_for(0, x.numel(), kGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) pd[i] = pg[i] * df(px[i]);
    });
    s.set(0, std::move(dx));
  });
}

}  // namespace tapegrad
