// Keras' activation functions as fused elementwise ops (tapegrad/autograd/pointwise.h): one pass
// forward, one pass backward (g * f'(x)), the loops inlined so that they vectorise.
#include <cmath>
#include <limits>
#include <string>

#include "tapegrad/autograd/nn_ops.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/pointwise.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/parallel.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad {

namespace {

inline float sigmoid1(float x) { return 1.0f / (1.0f + std::exp(-x)); }

constexpr float kSqrtHalf = 0.70710678118654752440f;
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;  // 1 / sqrt(2 pi)
constexpr float kSqrt2OverPi = 0.79788456080286535588f;
constexpr float kGeluCubic = 0.044715f;
constexpr float kTwoOverSqrtPi = 1.12837916709551257390f;

}  // namespace

Variable relu(const Variable& x, const ReLUParams& o) {
  if (!(o.negative_slope >= 0.0f)) fail("relu", "negative_slope must be >= 0, got " + std::to_string(o.negative_slope));
  if (!(o.max_value >= 0.0f)) fail("relu", "max_value must be >= 0, got " + std::to_string(o.max_value));
  // Plain relu (the ReLU layer's default) takes the fused, vectorised op: the general lambda
  // below does not vectorise (issue 14 measured it 21x slower on 4M elements).
  if (o.negative_slope == 0.0f && std::isinf(o.max_value) && o.threshold == 0.0f) return relu(x);
  const float slope = o.negative_slope, top = o.max_value, t = o.threshold;
  // Keras' backend.relu: the positive part is x above the threshold, clipped to [0, max_value]
  // when max_value is given; the negative part slope * (x - threshold) below the threshold.
  const float floor = std::isinf(top) ? -std::numeric_limits<float>::infinity() : 0.0f;
  return pointwise(
      "relu", x,
      [=](float v) {
        const float pos = v > t ? std::fmin(std::fmax(v, floor), top) : 0.0f;
        return v < t ? pos + slope * (v - t) : pos;
      },
      [=](float v) { return v > t ? ((v < top && v > floor) ? 1.0f : 0.0f) : (v < t ? slope : 0.0f); });
}

Variable leaky_relu(const Variable& x, float alpha) {
  return pointwise(
      "leaky_relu", x, [alpha](float v) { return v > 0.0f ? v : alpha * v; },
      [alpha](float v) { return v > 0.0f ? 1.0f : alpha; });
}

Variable elu(const Variable& x, float alpha) {
  return pointwise(
      "elu", x, [alpha](float v) { return v > 0.0f ? v : alpha * std::expm1(v); },
      [alpha](float v) { return v > 0.0f ? 1.0f : alpha * std::exp(v); });
}

Variable selu(const Variable& x) {
  return pointwise(
      "selu", x, [](float v) { return kSeluScale * (v > 0.0f ? v : kSeluAlpha * std::expm1(v)); },
      [](float v) { return kSeluScale * (v > 0.0f ? 1.0f : kSeluAlpha * std::exp(v)); });
}

Variable gelu(const Variable& x, bool approximate) {
  if (approximate)
    return pointwise(
        "gelu", x,
        [](float v) { return 0.5f * v * (1.0f + std::tanh(kSqrt2OverPi * (v + kGeluCubic * v * v * v))); },
        [](float v) {
          const float t = std::tanh(kSqrt2OverPi * (v + kGeluCubic * v * v * v));
          return 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * kGeluCubic * v * v);
        });
  return pointwise(
      "gelu", x, [](float v) { return 0.5f * v * (1.0f + std::erf(v * kSqrtHalf)); },
      [](float v) { return 0.5f * (1.0f + std::erf(v * kSqrtHalf)) + v * kInvSqrt2Pi * std::exp(-0.5f * v * v); });
}

Variable softplus(const Variable& x) {
  // max(x, 0) + log1p(exp(-|x|)): exact and free of overflow for any x.
  return pointwise(
      "softplus", x, [](float v) { return (v > 0.0f ? v : 0.0f) + std::log1p(std::exp(-std::fabs(v))); },
      [](float v) { return sigmoid1(v); });
}

Variable softsign(const Variable& x) {
  return pointwise(
      "softsign", x, [](float v) { return v / (1.0f + std::fabs(v)); },
      [](float v) {
        const float d = 1.0f + std::fabs(v);
        return 1.0f / (d * d);
      });
}

Variable hard_sigmoid(const Variable& x) {
  return pointwise(
      "hard_sigmoid", x,
      [](float v) {
        const float y = 0.2f * v + 0.5f;
        return y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
      },
      [](float v) { return (v > -2.5f && v < 2.5f) ? 0.2f : 0.0f; });
}

Variable swish(const Variable& x) {
  return pointwise(
      "swish", x, [](float v) { return v * sigmoid1(v); },
      [](float v) {
        const float s = sigmoid1(v);
        return s + v * s * (1.0f - s);
      });
}

Variable erf(const Variable& x) {
  return pointwise(
      "erf", x, [](float v) { return std::erf(v); }, [](float v) { return kTwoOverSqrtPi * std::exp(-v * v); });
}

Variable prelu(const Variable& x, const Variable& alpha) {
  if (!x.defined() || !alpha.defined()) fail("prelu", "input or alpha is undefined");
  const Tensor xv = x.value(), av = alpha.value();
  const Tensor zero = Tensor::scalar(0.0f);
  const Tensor neg_part = minimum(xv, zero);
  Tensor out = add(maximum(xv, zero), mul(av, neg_part));
  if (out.shape() != xv.shape())
    fail("prelu", "alpha " + av.shape().str() + " must broadcast to the input " + xv.shape().str() +
                      " without enlarging it");
  return record("prelu", out, {x, alpha}, [xv, av, neg_part, zero](const Tensor& g, GradSink& s) {
    if (s.needs(0)) {
      const Tensor pos = greater(xv, zero);  // 1 where x > 0
      // slope 1 where x > 0, alpha elsewhere: pos + (1 - pos) * alpha
      s.set(0, mul(g, add(pos, mul(add(neg(pos), 1.0f), av))));
    }
    if (s.needs(1)) s.set(1, sum_to(mul(g, neg_part), av.shape()));
  });
}

}  // namespace tapegrad
