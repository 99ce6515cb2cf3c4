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
#include "tapegrad/distributed/distributed.h"
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

// The passes' element functions are generic lambdas of where they are (`at`): one element
// (Scalar), or 8 consecutive channels-last elements of one row (Lanes), which GCC's vector
// extensions compile to AVX registers with -march=native (8 doubles: one AVX-512 register, so
// that sums stay in registers; wider vectors live on the stack) and to narrower ones elsewhere.
// Across rows, each lane keeps its channel, so a block's per-channel sums stay in registers
// (summed through memory, a row of ResNet's 16 channels waited on the last row's stores).
using Floats = float __attribute__((vector_size(32)));
using Doubles = double __attribute__((vector_size(64)));
constexpr int64_t kLanes = 8;

struct Scalar {
  int64_t i, c;  // flat index, channel
};
struct Lanes {
  int64_t i, c;  // elements i .. i + 7, channels c .. c + 7
};

inline float load(const float* p, Scalar at) { return p[at.i]; }
inline Floats load(const float* p, Lanes at) {
  Floats v;
  __builtin_memcpy(&v, p + at.i, sizeof v);
  return v;
}
inline float channel(const float* p, Scalar at) { return p[at.c]; }
inline Floats channel(const float* p, Lanes at) {
  Floats v;
  __builtin_memcpy(&v, p + at.c, sizeof v);
  return v;
}
inline void store(float* p, Scalar at, float v) { p[at.i] = v; }
inline void store(float* p, Lanes at, Floats v) { __builtin_memcpy(p + at.i, &v, sizeof v); }
inline double widen(float v) { return static_cast<double>(v); }
inline Doubles widen(Floats v) { return __builtin_convertvector(v, Doubles); }
// max(v, 0), NaN -> 0 (as the relu op).
inline float relu_value(float v) { return v > 0.0f ? v : 0.0f; }
inline Floats relu_value(Floats v) { return v > 0.0f ? v : Floats{}; }
// g where y > 0, else 0. The scalar form is a bit mask: written as a select, GCC branches
// around the whole sum instead and the loop no longer vectorises (5x slower).
inline float keep_where_positive(float g, float y) {
  const uint32_t keep = 0u - static_cast<uint32_t>(y > 0.0f);
  return std::bit_cast<float>(std::bit_cast<uint32_t>(g) & keep);
}
inline Floats keep_where_positive(Floats g, Floats y) { return y > 0.0f ? g : Floats{}; }

// K per-channel sums at once (one pass over memory): f(at, t) writes the K terms of the
// element(s) at `at` (doubles, or Doubles for Lanes). In double, deterministic: chunks of rows
// accumulate separately and are added in chunk order; within a chunk each channel's terms are
// added in row order from zero. Returns sums[k * C + c].
template <int K, class F>
std::vector<double> channel_sums(const Geometry& geo, F f) {
  const int64_t C = geo.channels, inner = geo.inner, rows = geo.chunk_rows();
  const int64_t chunks = (geo.outer + rows - 1) / rows;
  std::vector<double> partial(static_cast<size_t>(std::max<int64_t>(chunks, 1) * K * C), 0.0);
  parallel_chunks(geo.outer, rows, [&](int64_t chunk, int64_t lo, int64_t hi) {
    double* __restrict acc = partial.data() + chunk * K * C;
    if (inner == 1) {  // channels last (NHWC): a row is C consecutive channels
      int64_t c0 = 0;
      for (; c0 + kLanes <= C; c0 += kLanes) {
        Doubles a[K] = {};
        for (int64_t r = lo; r < hi; ++r) {
          Doubles t[K];
          f(Lanes{r * C + c0, c0}, t);
          for (int k = 0; k < K; ++k) a[k] += t[k];
        }
        for (int k = 0; k < K; ++k) __builtin_memcpy(acc + k * C + c0, &a[k], sizeof a[k]);
      }
      for (int64_t r = lo; r < hi; ++r)  // the channels past the last whole block
        for (int64_t c = c0; c < C; ++c) {
          double t[K];
          f(Scalar{r * C + c, c}, t);
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
          f(Scalar{base + j, c}, t);
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

// out at each element = f(at), in parallel over rows of `outer`.
template <class F>
void for_each_element(const Geometry& geo, float* out, F f) {
  const int64_t C = geo.channels, inner = geo.inner;
  parallel_for(0, geo.outer, geo.chunk_rows(), [&](int64_t lo, int64_t hi) {
    if (inner == 1) {  // channels last: 8 channels of a row at a time
      for (int64_t r = lo; r < hi; ++r) {
        int64_t c = 0;
        for (; c + kLanes <= C; c += kLanes) store(out, Lanes{r * C + c, c}, f(Lanes{r * C + c, c}));
        for (; c < C; ++c) out[r * C + c] = f(Scalar{r * C + c, c});
      }
      return;
    }
    for (int64_t r = lo; r < hi; ++r)
      for (int64_t c = 0; c < C; ++c) {
        const int64_t base = (r * C + c) * inner;
        for (int64_t j = 0; j < inner; ++j) out[base + j] = f(Scalar{base + j, c});
      }
  });
}

// gamma * xhat + beta, from x and the per-channel values: the forward's output before the relu
// and the residual, and, recomputed from x by the backward, the fused relu's mask. It is one
// expression for both, so it gives the same bits (this file is compiled without floating-point
// contraction, so that no call site fuses it differently).
struct Affine {
  const float *x, *mean, *invstd, *scale, *shift;
  template <class At>
  auto xhat(At at) const {
    return (load(x, at) - channel(mean, at)) * channel(invstd, at);
  }
  template <class At>
  auto operator()(At at) const {
    return channel(scale, at) * xhat(at) + channel(shift, at);
  }
};

// What the backward needs of the forward.
struct Saved {
  Geometry geo;
  Tensor x;
  std::vector<float> mean, invstd, scale, shift;
  int gamma_index, beta_index;
  // Synchronized over the ranks of a distributed job: the job's element count per channel (0
  // when not synchronized).
  double job_count = 0.0;
  Affine affine() const { return {x.data(), mean.data(), invstd.data(), scale.data(), shift.data()}; }
};

// The gradients for the output gradient, read as sum_grad(at) by the sums pass and dx_grad(at) by
// the dx pass (templates, so that the fused relu's masking is inlined into the passes rather than
// being a pass of its own).
template <class SumGrad, class DxGrad>
void backward_pass(const Saved& sv, SumGrad sum_grad, DxGrad dx_grad, GradSink& s) {
  const int64_t C = sv.geo.channels;
  const Affine affine = sv.affine();
  auto xhat = [affine](auto at) { return affine.xhat(at); };
  // sum(g) and sum(g * xhat) per channel, in one pass.
  const std::vector<double> sums = channel_sums<2>(sv.geo, [sum_grad, xhat](auto at, auto* t) {
    const auto g = widen(sum_grad(at));
    t[0] = g;
    t[1] = g * widen(xhat(at));
  });
  const std::vector<double> sum_g(sums.begin(), sums.begin() + C);
  const std::vector<double> sum_gh(sums.begin() + C, sums.end());
  // The means of g and g * xhat over the rows the statistics came from. Synchronized, those are
  // the job's: rank r's g is the gradient of its own mean loss, which enters the job's loss
  // with weight n_r / n (n_r its rows, n the job's; what GradientAverager weights it by), so the
  // job's sums are sum_r (n_r / n) sums_r, and rank r's dx, to be weighted by n_r / n in turn,
  // uses them divided by n_r / n: the means are sum_r n_r sums_r / (n n_r). The gamma and beta
  // gradients stay this rank's sums: weighted by n_r / n and added up, they are the job's.
  std::vector<double> means_of(sums);
  const double n = static_cast<double>(sv.geo.count());
  if (sv.job_count > 0.0) {
    for (double& v : means_of) v *= n;
    distributed::sum(means_of);
    for (double& v : means_of) v /= sv.job_count * n;
  } else {
    for (double& v : means_of) v /= n;
  }
  if (s.needs(0)) {
    // dx = gamma * invstd * (g - mean(g) - xhat * mean(g * xhat))
    std::vector<float> k(C), mg(C), mgh(C);
    for (int64_t c = 0; c < C; ++c) {
      k[c] = sv.scale[c] * sv.invstd[c];
      mg[c] = static_cast<float>(means_of[c]);
      mgh[c] = static_cast<float>(means_of[C + c]);
    }
    Tensor dx = Tensor::empty(sv.x.shape());
    const float *pk = k.data(), *pmg = mg.data(), *pmgh = mgh.data();
    for_each_element(sv.geo, dx.data(),
                     [=](auto at) { return channel(pk, at) * (dx_grad(at) - channel(pmg, at) - xhat(at) * channel(pmgh, at)); });
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
                                 float epsilon, bool relu, const Variable& residual, bool synchronized) {
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
  const bool over_ranks = synchronized && distributed::size() > 1;
  double n = static_cast<double>(geo.count());
  // Mean and variance in one pass: sums of d = x - shift and of d^2 in double, shift being the
  // channel's first element. Shifted, the cancellation of E[d^2] - E[d]^2 costs nothing in
  // double unless the spread is below ~1e-8 of |mean - shift| (Chan, Golub & LeVeque 1983).
  std::vector<float> shift_by(C);
  for (int64_t c = 0; c < C; ++c) shift_by[c] = px[c * geo.inner];
  if (over_ranks) distributed::broadcast(std::span<float>(shift_by));  // one shift for the job's sums
  const float* pk = shift_by.data();
  std::vector<double> sums = channel_sums<2>(geo, [px, pk](auto at, auto* t) {
    const auto d = widen(load(px, at)) - widen(channel(pk, at));
    t[0] = d;
    t[1] = d * d;
  });
  if (over_ranks) {  // the job's statistics: every rank's sums and counts added up
    sums.push_back(n);
    distributed::sum(sums);
    n = sums.back();
  }
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
    const Affine affine{px, pm, invstd.data(), scale.data(), shift.data()};
    const float* pr = add ? residual.value().data() : nullptr;
    // One loop per variant, so that each vectorises without a branch per element.
    if (add && relu)
      for_each_element(geo, y.data(), [affine, pr](auto at) { return relu_value(affine(at) + load(pr, at)); });
    else if (add)
      for_each_element(geo, y.data(), [affine, pr](auto at) { return affine(at) + load(pr, at); });
    else if (relu)
      for_each_element(geo, y.data(), [affine](auto at) { return relu_value(affine(at)); });
    else
      for_each_element(geo, y.data(), affine);
  }

  std::vector<Variable> inputs{x};
  const int gamma_index = gamma.defined() ? static_cast<int>(inputs.size()) : -1;
  if (gamma.defined()) inputs.push_back(gamma);
  const int beta_index = beta.defined() ? static_cast<int>(inputs.size()) : -1;
  if (beta.defined()) inputs.push_back(beta);
  const int residual_index = add ? static_cast<int>(inputs.size()) : -1;
  if (add) inputs.push_back(residual);

  // The fused relu's mask is where the output is positive. Alone, the relu's input is recomputed
  // from x (read by the backward anyway), so the backward does not read the output; after a
  // residual add, the output tensor (kept by the graph as the next op's input) is read instead
  // of the residual.
  Saved saved{geo, x.value(), mean, invstd, scale, shift, gamma_index, beta_index, over_ranks ? n : 0.0};
  const Tensor relu_output = relu && add ? y : Tensor();
  Variable out = record(op, y, inputs, [saved = std::move(saved), relu, relu_output, residual_index](const Tensor& g, GradSink& s) {
    const float* pg = g.data();
    const float* py = relu_output.defined() ? relu_output.data() : nullptr;
    const Affine affine = saved.affine();
    auto masked = [pg, py](auto at) { return keep_where_positive(load(pg, at), load(py, at)); };
    auto masked_by_x = [pg, affine](auto at) { return keep_where_positive(load(pg, at), affine(at)); };
    auto plain = [pg](auto at) { return load(pg, at); };
    if (residual_index >= 0 && py) {
      // y's gradient before the relu is also the residual's: the sums pass writes it as it
      // makes it (no pass of its own), the dx pass reads it.
      Tensor before_relu = Tensor::empty(g.shape());
      float* pb = before_relu.data();
      backward_pass(
          saved,
          [masked, pb](auto at) {
            const auto v = masked(at);
            store(pb, at, v);
            return v;
          },
          [pb](auto at) { return load(pb, at); }, s);
      if (s.needs(static_cast<size_t>(residual_index))) s.set(static_cast<size_t>(residual_index), std::move(before_relu));
    } else if (residual_index >= 0) {
      backward_pass(saved, plain, plain, s);
      if (s.needs(static_cast<size_t>(residual_index))) s.set(static_cast<size_t>(residual_index), g);
    } else if (relu) {
      backward_pass(saved, masked_by_x, masked_by_x, s);
    } else {
      backward_pass(saved, plain, plain, s);
    }
  });
  return {out, mean_t, var_t};
}

}  // namespace tapegrad
