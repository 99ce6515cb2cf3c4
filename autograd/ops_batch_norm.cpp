// Training-mode batch normalization, fused: forward (one pass for mean and variance per channel,
// then one that writes y) and backward (one pass for both per-channel sums, one for dx) in one op.
// xhat = (x - mean) * invstd is not stored: the backward recomputes it from x, which the graph
// keeps anyway, with the same float expression (so the same bits), saving an activation-sized
// tensor per layer and a write pass. x is viewed as (outer, C, inner) around the
// channel axis; per-channel sums are taken over fixed chunks of `outer` in parallel and combined
// in chunk order, so the result does not depend on the thread count. Fused with a relu
// (batch_norm_relu), y is clamped in its pass and the backward masks the gradient as it reads it.
// Fused with a residual (batch_norm_add, batch_norm_add_relu: a ResNet block's end,
// relu(bn(x) + shortcut)), the shortcut is added in the same pass; its gradient is the (masked)
// output gradient itself.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "tapegrad/autograd/nn_ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/parallel.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad {

namespace {

struct Geometry {
  int64_t outer = 1, channels = 1, inner = 1;
  int64_t count() const { return outer * inner; }  // elements per channel
  // Rows of `outer` per chunk: about 16K elements, fixed by the shape alone.
  int64_t chunk_rows() const { return std::max<int64_t>(1, (int64_t{1} << 14) / std::max<int64_t>(1, channels * inner)); }
};

Geometry geometry_of(const Shape& s, int axis) {
  Geometry g;
  for (int i = 0; i < axis; ++i) g.outer *= s[i];
  g.channels = s[axis];
  for (int i = axis + 1; i < s.rank(); ++i) g.inner *= s[i];
  return g;
}

// K per-channel sums at once (one pass over memory): f(flat index, channel, terms) writes the K
// terms of one element. In double, deterministic: chunks of rows accumulate separately and are added in
// chunk order. Returns sums[k * C + c].
template <int K, class F>
std::vector<double> channel_sums(const Geometry& geo, F f) {
  const int64_t C = geo.channels, inner = geo.inner, rows = geo.chunk_rows();
  const int64_t chunks = (geo.outer + rows - 1) / rows;
  std::vector<double> partial(static_cast<size_t>(std::max<int64_t>(chunks, 1) * K * C), 0.0);
  parallel_chunks(geo.outer, rows, [&](int64_t chunk, int64_t lo, int64_t hi) {
    double* __restrict acc = partial.data() + chunk * K * C;
    if (inner == 1) {  // channels last (NHWC): a row is C consecutive channels; vectorise over them
      for (int64_t r = lo; r < hi; ++r)
        for (int64_t c = 0; c < C; ++c) {
          double t[K];
          f(r * C + c, c, t);
          for (int k = 0; k < K; ++k) acc[k * C + c] += t[k];
        }
      return;
    }
    for (int64_t r = lo; r < hi; ++r)
      for (int64_t c = 0; c < C; ++c) {
        const int64_t base = (r * C + c) * inner;
        double s[K] = {};
        for (int64_t j = 0; j < inner; ++j) {
          double t[K];
          f(base + j, c, t);
          for (int k = 0; k < K; ++k) s[k] += t[k];
        }
        for (int k = 0; k < K; ++k) acc[k * C + c] += s[k];
      }
  });
  std::vector<double> total(static_cast<size_t>(K * C), 0.0);
  for (int64_t chunk = 0; chunk < chunks; ++chunk)
    for (int64_t i = 0; i < K * C; ++i) total[i] += partial[chunk * K * C + i];
  return total;
}

// out[i] = f(i, channel of i), in parallel over rows of `outer`.
template <class F>
void for_each_element(const Geometry& geo, float* out, F f) {
  const int64_t C = geo.channels, inner = geo.inner;
  parallel_for(0, geo.outer, geo.chunk_rows(), [&](int64_t lo, int64_t hi) {
    if (inner == 1) {  // channels last: vectorise over the channels of a row
      for (int64_t r = lo; r < hi; ++r)
        for (int64_t c = 0; c < C; ++c) out[r * C + c] = f(r * C + c, c);
      return;
    }
    for (int64_t r = lo; r < hi; ++r)
      for (int64_t c = 0; c < C; ++c) {
        const int64_t base = (r * C + c) * inner;
        for (int64_t j = 0; j < inner; ++j) out[base + j] = f(base + j, c);
      }
  });
}

// What the backward needs of the forward.
struct Saved {
  Geometry geo;
  Tensor x;
  std::vector<float> mean, invstd, scale;
  int gamma_index, beta_index;
};

// The gradients for the output gradient, read as sum_grad(i) by the sums pass and dx_grad(i) by
// the dx pass (templates, so that the fused relu's masking is inlined into the passes rather than
// being a pass of its own).
template <class SumGrad, class DxGrad>
void backward_pass(const Saved& sv, SumGrad sum_grad, DxGrad dx_grad, GradSink& s) {
  const int64_t C = sv.geo.channels;
  const float* px = sv.x.data();
  const float *pm = sv.mean.data(), *pi = sv.invstd.data();
  auto xhat = [px, pm, pi](int64_t i, int64_t c) { return (px[i] - pm[c]) * pi[c]; };
  // sum(g) and sum(g * xhat) per channel, in one pass.
  const std::vector<double> sums = channel_sums<2>(sv.geo, [sum_grad, xhat](int64_t i, int64_t c, double* t) {
    const double g = static_cast<double>(sum_grad(i));
    t[0] = g;
    t[1] = g * xhat(i, c);
  });
  const std::vector<double> sum_g(sums.begin(), sums.begin() + C);
  const std::vector<double> sum_gh(sums.begin() + C, sums.end());
  if (s.needs(0)) {
    // dx = gamma * invstd * (g - mean(g) - xhat * mean(g * xhat))
    const double n = static_cast<double>(sv.geo.count());
    std::vector<float> k(C), mg(C), mgh(C);
    for (int64_t c = 0; c < C; ++c) {
      k[c] = sv.scale[c] * sv.invstd[c];
      mg[c] = static_cast<float>(sum_g[c] / n);
      mgh[c] = static_cast<float>(sum_gh[c] / n);
    }
    Tensor dx = Tensor::empty(sv.x.shape());
    const float *pk = k.data(), *pmg = mg.data(), *pmgh = mgh.data();
    for_each_element(sv.geo, dx.data(),
                     [=](int64_t i, int64_t c) { return pk[c] * (dx_grad(i) - pmg[c] - xhat(i, c) * pmgh[c]); });
    s.set(0, std::move(dx));
  }
  auto to_tensor = [C](const std::vector<double>& v) {
    Tensor t = Tensor::empty({C});
    for (int64_t c = 0; c < C; ++c) t.data()[c] = static_cast<float>(v[c]);
    return t;
  };
  if (sv.gamma_index >= 0 && s.needs(sv.gamma_index)) s.set(sv.gamma_index, to_tensor(sum_gh));
  if (sv.beta_index >= 0 && s.needs(sv.beta_index)) s.set(sv.beta_index, to_tensor(sum_g));
}

}  // namespace

BatchNormResult batch_norm_train(const Variable& x, const Variable& gamma, const Variable& beta, int axis,
                                 float epsilon, bool relu, const Variable& residual) {
  const bool add = residual.defined();
  const char* op = add ? (relu ? "batch_norm_add_relu" : "batch_norm_add") : (relu ? "batch_norm_relu" : "batch_norm");
  if (!x.defined()) fail(op, "input is undefined");
  if (x.rank() < 2) fail(op, "input " + x.shape().str() + " needs a batch dim and a channel axis");
  const int ax = normalize_axis(axis, x.rank(), op);
  if (ax == 0) fail(op, "the channel axis cannot be the batch axis 0 of input " + x.shape().str());
  if (!(epsilon > 0.0f)) fail(op, "epsilon must be positive, got " + std::to_string(epsilon));
  const Geometry geo = geometry_of(x.shape(), ax);
  const int64_t C = geo.channels;
  for (const Variable* p : {&gamma, &beta})
    if (p->defined() && p->shape() != Shape{C})
      fail(op, std::string(p == &gamma ? "gamma " : "beta ") + p->shape().str() + " must be (" + std::to_string(C) +
                   ",) for input " + x.shape().str() + " with channel axis " + std::to_string(ax));
  if (geo.count() < 1) fail(op, "input " + x.shape().str() + " has no elements per channel");
  if (add && residual.shape() != x.shape())
    fail(op, "the residual " + residual.shape().str() + " must have the input's shape " + x.shape().str());

  const float* px = x.value().data();
  const double n = static_cast<double>(geo.count());
  // Mean and variance in one pass: sums of d = x - shift and of d^2 in double, shift being the
  // channel's first element. Shifted, the cancellation of E[d^2] - E[d]^2 costs nothing in
  // double unless the spread is below ~1e-8 of |mean - shift| (Chan, Golub & LeVeque 1983).
  std::vector<float> shift_by(C);
  for (int64_t c = 0; c < C; ++c) shift_by[c] = px[c * geo.inner];
  const float* pk = shift_by.data();
  const std::vector<double> sums = channel_sums<2>(geo, [px, pk](int64_t i, int64_t c, double* t) {
    const double d = static_cast<double>(px[i]) - static_cast<double>(pk[c]);
    t[0] = d;
    t[1] = d * d;
  });
  std::vector<float> mean(C), invstd(C);
  Tensor mean_t = Tensor::empty({C}), var_t = Tensor::empty({C});
  for (int64_t c = 0; c < C; ++c) {
    const double mean_d = sums[c] / n;
    const double var = std::max(0.0, sums[C + c] / n - mean_d * mean_d);
    mean[c] = static_cast<float>(static_cast<double>(pk[c]) + mean_d);
    var_t.data()[c] = static_cast<float>(var);
    mean_t.data()[c] = mean[c];
    invstd[c] = static_cast<float>(1.0 / std::sqrt(var + epsilon));
  }
  const float* pm = mean.data();

  // y = gamma * xhat + beta (then max(y, 0) when fused with a relu).
  Tensor y = Tensor::empty(x.shape());
  std::vector<float> scale(C, 1.0f), shift(C, 0.0f);
  if (gamma.defined()) std::copy_n(gamma.value().data(), C, scale.begin());
  if (beta.defined()) std::copy_n(beta.value().data(), C, shift.begin());
  {
    const float* pi = invstd.data();
    const float *ps = scale.data(), *pb = shift.data();
    const float* pr = add ? residual.value().data() : nullptr;
    // One loop per variant, so that each vectorises without a branch per element.
    if (add && relu)
      for_each_element(geo, y.data(), [px, pm, pi, ps, pb, pr](int64_t i, int64_t c) {
        const float v = ps[c] * ((px[i] - pm[c]) * pi[c]) + pb[c] + pr[i];
        return v > 0.0f ? v : 0.0f;  // NaN -> 0, as the relu op
      });
    else if (add)
      for_each_element(geo, y.data(), [px, pm, pi, ps, pb, pr](int64_t i, int64_t c) {
        return ps[c] * ((px[i] - pm[c]) * pi[c]) + pb[c] + pr[i];
      });
    else if (relu)
      for_each_element(geo, y.data(), [px, pm, pi, ps, pb](int64_t i, int64_t c) {
        const float v = ps[c] * ((px[i] - pm[c]) * pi[c]) + pb[c];
        return v > 0.0f ? v : 0.0f;  // NaN -> 0, as the relu op
      });
    else
      for_each_element(geo, y.data(), [px, pm, pi, ps, pb](int64_t i, int64_t c) {
        const float h = (px[i] - pm[c]) * pi[c];
        return ps[c] * h + pb[c];
      });
  }

  std::vector<Variable> inputs{x};
  const int gamma_index = gamma.defined() ? static_cast<int>(inputs.size()) : -1;
  if (gamma.defined()) inputs.push_back(gamma);
  const int beta_index = beta.defined() ? static_cast<int>(inputs.size()) : -1;
  if (beta.defined()) inputs.push_back(beta);
  const int residual_index = add ? static_cast<int>(inputs.size()) : -1;
  if (add) inputs.push_back(residual);

  // The fused relu's mask is where the output is positive: the output tensor (kept by the graph
  // as the next op's input anyway) is captured instead of a mask.
  Saved saved{geo, x.value(), mean, invstd, scale, gamma_index, beta_index};
  const Tensor relu_output = relu ? y : Tensor();
  Variable out = record(op, y, inputs, [saved = std::move(saved), relu_output, residual_index](const Tensor& g, GradSink& s) {
    const float* pg = g.data();
    const float* py = relu_output.defined() ? relu_output.data() : nullptr;
    // g where y > 0, else 0, as a bit mask: written as a select, GCC branches around the whole
    // sum instead and the loop no longer vectorises (5x slower).
    auto masked = [pg, py](int64_t i) {
      const uint32_t keep = 0u - static_cast<uint32_t>(py[i] > 0.0f);
      return std::bit_cast<float>(std::bit_cast<uint32_t>(pg[i]) & keep);
    };
    auto plain = [pg](int64_t i) { return pg[i]; };
    if (residual_index >= 0 && py) {
      // y's gradient before the relu is also the residual's: the sums pass writes it as it
      // makes it (no pass of its own), the dx pass reads it.
      Tensor before_relu = Tensor::empty(g.shape());
      float* pb = before_relu.data();
      backward_pass(saved, [masked, pb](int64_t i) { return pb[i] = masked(i); }, [pb](int64_t i) { return pb[i]; }, s);
      if (s.needs(static_cast<size_t>(residual_index))) s.set(static_cast<size_t>(residual_index), std::move(before_relu));
    } else if (residual_index >= 0) {
      backward_pass(saved, plain, plain, s);
      if (s.needs(static_cast<size_t>(residual_index))) s.set(static_cast<size_t>(residual_index), g);
    } else if (py) {
      backward_pass(saved, masked, masked, s);
    } else {
      backward_pass(saved, plain, plain, s);
    }
  });
  return {out, mean_t, var_t};
}

}  // namespace tapegrad
