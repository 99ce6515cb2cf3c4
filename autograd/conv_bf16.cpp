#include "autograd/conv_bf16.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "autograd/conv_amx.h"
#include "autograd/conv_direct.h"
#include "autograd/conv_strided.h"
#include "autograd/conv_winograd.h"
#include "core/gemm_bf16.h"
#include "core/scratch.h"
#include "tapegrad/core/parallel.h"

namespace tapegrad::conv_bf16 {

namespace {

// Samples per task: about 1024 patch rows, enough for the GEMM, few enough for the cache.
int64_t samples_per_chunk(const ConvGeometry& g) {
  constexpr int64_t kTargetRows = 1024;
  return std::max<int64_t>(1, kTargetRows / std::max<int64_t>(1, g.out_positions()));
}

float* scratch(size_t n) {
  thread_local ScratchBuffer buffer;
  return buffer.get(n);
}

// The patches of samples [b0, b1): rows (b1 - b0) * out_positions, columns kernel_positions * c_in.
float* patches(const float* x, const ConvGeometry& g, int64_t b0, int64_t b1) {
  const int64_t kc = g.kernel_positions() * g.c_in, rows_per_sample = g.out_positions(), in_size = g.in_positions() * g.c_in;
  float* col = scratch(static_cast<size_t>((b1 - b0) * rows_per_sample * kc));
  for (int64_t b = b0; b < b1; ++b) conv_engine::im2col(x + b * in_size, g, col + (b - b0) * rows_per_sample * kc);
  return col;
}

}  // namespace

// Whether g runs as float32 kernels on the bf16-rounded operands (see conv_bf16.h). On
// AVX512-BF16 without AMX, measured on AMD Zen 4 (forward and both gradients, batch 128, one
// thread; bench/results/conv_routes_zen4_2026-12-03.txt): the Winograd geometries ran 1.26-2.2x
// faster as float32, the other direct and strided ones 1.1-2x faster where the GEMM is small (c_out
// or kernel positions x c_in under 64), and 1.3-1.9x slower where it is not (a stride-2 32 -> 64,
// a 1-D 128 -> 128 over 5 taps, 1x1 64 -> 128 and 128 -> 256).
//
// On AMX, the small-GEMM geometries (kernel positions x c_in under 64) whose c_in no AMX kernel
// takes (not a multiple of 16): a network's first convolution over 3 channels. Measured on an
// Intel AMX CPU (bench_conv_geometries: ResNet-20's at batch 128, one thread, forward +
// backward): its 3 -> 16 stem took 11.1 ms through im2col and the bf16 GEMM, 4.3 as float32 on
// the rounded operands. Where an AMX kernel serves the forward (c_in a multiple of 16), rounding
// the input costs more than float32 saves: a 1x1/2 16 -> 32 took 2.9 ms in bf16 and 3.8 so.
bool runs_as_rounded_float32(const ConvGeometry& g, Bf16Isa isa) {
  if (isa == Bf16Isa::emulated) return true;
  const bool float32_kernel = conv_direct::supports(g) || conv_strided::supports(g);
  const int64_t kernel_rows = g.kernel_positions() * g.c_in;
  if (isa == Bf16Isa::amx) return kernel_rows < 64 && float32_kernel && g.c_in % 16 != 0;
  if (conv_winograd::supports(g)) return true;
  const bool small_gemm = g.c_out < 64 || kernel_rows < 64;
  return small_gemm && float32_kernel;
}

namespace {

// The n sums of `chunks` consecutive partials of n values each, added in chunk order.
Tensor sum_in_chunk_order(const std::vector<float>& partials, int64_t chunks, int64_t n) {
  Tensor sums = Tensor::zeros({n});
  for (int64_t c = 0; c < chunks; ++c)
    for (int64_t o = 0; o < n; ++o) sums.data()[o] += partials[static_cast<size_t>(c * n + o)];
  return sums;
}

Tensor rounded(const Tensor& t) {
  Tensor r = Tensor::empty(t.shape());
  const float* src = t.data();
  float* dst = r.data();
  parallel_for(0, t.numel(), 1 << 15, [&](int64_t lo, int64_t hi) { round_to_bf16(src + lo, hi - lo, dst + lo); });
  return r;
}

// The output gradient as the float32 kernels take it: relu-masked (the fused relu's gradient)
// and rounded to bf16; with the bias gradient, a sum rather than a product, of the masked dy as
// it is. One pass over chunks of samples fixed by the geometry (each chunk masked, summed and
// rounded while in cache), the chunks' sums added in chunk order.
struct OutputGradient {
  Tensor rounded, db;
};
OutputGradient prepare_output_gradient(const Tensor& dy, const Tensor* relu_output, bool want_db, const ConvGeometry& g) {
  const int64_t rows_per_sample = g.out_positions(), n = g.c_out, per = samples_per_chunk(g), chunks = (g.batch + per - 1) / per;
  OutputGradient out{Tensor::empty(dy.shape()), Tensor()};
  std::vector<float> partials(want_db ? static_cast<size_t>(chunks * n) : 0, 0.0f);
  parallel_chunks(g.batch, per, [&](int64_t chunk, int64_t b0, int64_t b1) {
    const int64_t count = (b1 - b0) * rows_per_sample * n, offset = b0 * rows_per_sample * n;
    const float* src = dy.data() + offset;
    float* dst = out.rounded.data() + offset;
    if (relu_output) {
      conv_engine::relu_gradient(src, relu_output->data() + offset, count, dst);
      src = dst;
    }
    if (want_db) conv_engine::add_column_sums(src, count / n, n, partials.data() + chunk * n);
    round_to_bf16(src, count, dst);
  });
  if (want_db) out.db = sum_in_chunk_order(partials, chunks, n);
  return out;
}

}  // namespace

Tensor forward(const Tensor& x, const Tensor& w, const ConvGeometry& g, const conv_engine::Epilogue& epilogue) {
  const Bf16Isa isa = bf16_isa();
  if (runs_as_rounded_float32(g, isa)) return conv_engine::forward(rounded(x), rounded(w), g, epilogue, Dtype::float32);
  Tensor y = Tensor::empty(g.output_shape(g.c_out));
  const int64_t kc = g.kernel_positions() * g.c_in, rows_per_sample = g.out_positions(), n = g.c_out;
  const PackedBf16Matrix packed_w = pack_bf16_b({w.data(), n}, kc, n);
  if (isa == Bf16Isa::amx && conv_amx::supports(g)) {  // stride 1: straight from the input
    const conv_direct::Plan plan(g);
    const int64_t in_size = g.in_positions() * g.c_in;
    parallel_chunks(g.batch, 1, [&](int64_t, int64_t b0, int64_t b1) {
      conv_amx::forward_samples(plan, b1 - b0, x.data() + b0 * in_size, packed_w, epilogue.bias, epilogue.relu,
                                y.data() + b0 * rows_per_sample * n);
    });
    return y;
  }
  if (isa == Bf16Isa::amx && conv_amx::supports_strided(g)) {
    const int64_t in_size = g.in_positions() * g.c_in;
    parallel_chunks(g.batch, 1, [&](int64_t, int64_t b0, int64_t b1) {
      conv_amx::forward_strided_samples(g, b1 - b0, x.data() + b0 * in_size, packed_w, epilogue.bias, epilogue.relu,
                                        y.data() + b0 * rows_per_sample * n);
    });
    return y;
  }
  parallel_chunks(g.batch, samples_per_chunk(g), [&](int64_t, int64_t b0, int64_t b1) {
    const int64_t rows = (b1 - b0) * rows_per_sample;
    float* out = y.data() + b0 * rows_per_sample * n;
    if (epilogue.bias)
      for (int64_t r = 0; r < rows; ++r) std::memcpy(out + r * n, epilogue.bias, static_cast<size_t>(n) * sizeof(float));
    gemm_bf16({patches(x.data(), g, b0, b1), kc}, packed_w, out, n, rows, epilogue.bias != nullptr, isa);
    if (epilogue.relu)
      for (int64_t i = 0, count = rows * n; i < count; ++i) out[i] = out[i] > 0.0f ? out[i] : 0.0f;
  });
  return y;
}

conv_engine::Gradients backward(const Tensor& x, const Tensor& w, const Tensor& dy, const ConvGeometry& g,
                                const conv_engine::BackwardRequest& want) {
  const Bf16Isa isa = bf16_isa();
  if (runs_as_rounded_float32(g, isa)) {
    OutputGradient dy_prepared = prepare_output_gradient(dy, want.relu_output, want.db, g);
    conv_engine::BackwardRequest products = want;
    products.compute = Dtype::float32;
    products.db = false;
    products.relu_output = nullptr;  // applied above
    // The float32 strided kernels cannot add into dx_into: their input gradient is added here.
    const bool add_here = want.dx && want.dx_into && !conv_engine::adds_input_gradient(g, Dtype::float32);
    if (add_here) products.dx_into = nullptr;
    conv_engine::Gradients out = conv_engine::backward(want.dw ? rounded(x) : x, rounded(w), dy_prepared.rounded, g, products);
    if (add_here) {
      float* into = want.dx_into->data();
      const float* dx = out.dx.data();
      parallel_for(0, out.dx.numel(), 1 << 15, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) into[i] += dx[i];
      });
      out.dx = Tensor();
    }
    out.db = dy_prepared.db;
    return out;
  }
  const int64_t kc = g.kernel_positions() * g.c_in, rows_per_sample = g.out_positions(), n = g.c_out;
  const int64_t in_size = g.in_positions() * g.c_in, per = samples_per_chunk(g), chunks = (g.batch + per - 1) / per;
  conv_engine::Gradients out;
  // Per-chunk dw^T (n x kc) and bias sums, added in chunk order below. At stride 1 on AMX the
  // chunks' kernel gradients come straight from the input (no patches).
  const bool amx_dw = want.dw && isa == Bf16Isa::amx && conv_amx::supports_weight_gradient(g);
  const conv_direct::Plan dw_plan(amx_dw ? g : ConvGeometry{});
  std::vector<float> partials(want.dw ? static_cast<size_t>(chunks * n * kc) : 0);
  std::vector<float> bias_partials(want.db ? static_cast<size_t>(chunks * n) : 0, 0.0f);
  // dx: at stride 1 on AMX, the forward of dy with the flipped kernel; else dpatches and col2im.
  const ConvGeometry dx_geometry = conv_direct::input_gradient_geometry(g);
  const bool amx_dx = want.dx && isa == Bf16Isa::amx && conv_direct::supports(g) && conv_amx::supports(dx_geometry);
  PackedBf16Matrix packed_wt;  // w^T (n x kc) for dpatches, or the flipped kernel (kc x c_in)
  const conv_direct::Plan dx_plan(amx_dx ? dx_geometry : ConvGeometry{});
  // dx into want.dx_into (adding) or a new tensor: the AMX kernel writes every position, col2im
  // adds onto zeros.
  const bool add_dx = want.dx && want.dx_into;
  if (amx_dx) {
    std::vector<float> flipped(static_cast<size_t>(kc * n));
    conv_direct::flip_kernel(w.data(), g, flipped.data());
    packed_wt = pack_bf16_b({flipped.data(), g.c_in}, g.kernel_positions() * n, g.c_in);
    if (!add_dx) out.dx = Tensor::empty(g.input_shape());
  } else if (want.dx) {
    packed_wt = pack_bf16_b({w.data(), n, true}, n, kc);
    if (!add_dx) out.dx = Tensor::zeros(g.input_shape());
  }
  float* dx = add_dx ? want.dx_into->data() : want.dx ? out.dx.data() : nullptr;
  const float* relu_y = want.relu_output ? want.relu_output->data() : nullptr;
  parallel_chunks(g.batch, per, [&](int64_t chunk, int64_t b0, int64_t b1) {
    const int64_t rows = (b1 - b0) * rows_per_sample, offset = b0 * rows_per_sample * n;
    const float* g_out = dy.data() + offset;
    if (relu_y) {  // the fused relu's gradient: zero where the output was clamped
      thread_local ScratchBuffer masked_buffer;
      float* masked = masked_buffer.get(static_cast<size_t>(rows * n));
      conv_engine::relu_gradient(g_out, relu_y + offset, rows * n, masked);
      g_out = masked;
    }
    if (want.db) conv_engine::add_column_sums(g_out, rows, n, bias_partials.data() + chunk * n);
    if (amx_dw) {
      float* partial = partials.data() + chunk * n * kc;
      std::fill(partial, partial + n * kc, 0.0f);
      conv_amx::add_weight_gradient_samples(dw_plan, b1 - b0, x.data() + b0 * in_size, g_out, partial);
    } else if (want.dw) {
      const PackedBf16Matrix packed_col = pack_bf16_b({patches(x.data(), g, b0, b1), kc}, rows, kc);
      gemm_bf16({g_out, n, true}, packed_col, partials.data() + chunk * n * kc, kc, n, false, isa);
    }
    if (amx_dx) {
      conv_amx::forward_samples(dx_plan, b1 - b0, g_out, packed_wt, nullptr, false, dx + b0 * in_size, add_dx);
    } else if (want.dx) {
      float* dcol = scratch(static_cast<size_t>(rows * kc));
      gemm_bf16({g_out, n}, packed_wt, dcol, kc, rows, false, isa);
      for (int64_t b = b0; b < b1; ++b) conv_engine::col2im_add(dcol + (b - b0) * rows_per_sample * kc, g, dx + b * in_size);
    }
  });
  if (want.dw) {
    // dw^T = the chunks' partials added in chunk order (each a contiguous n x kc run, read
    // sequentially), then transposed once into dw (kc x n).
    std::vector<float> dw_t(partials.begin(), partials.begin() + n * kc);
    parallel_for(0, n * kc, 4096, [&](int64_t lo, int64_t hi) {
      for (int64_t c = 1; c < chunks; ++c) {
        const float* partial = partials.data() + c * n * kc;
        for (int64_t i = lo; i < hi; ++i) dw_t[static_cast<size_t>(i)] += partial[i];
      }
    });
    out.dw = Tensor::empty(w.shape());
    float* dw = out.dw.data();
    for (int64_t i = 0; i < kc; ++i)
      for (int64_t o = 0; o < n; ++o) dw[i * n + o] = dw_t[static_cast<size_t>(o * kc + i)];
  }
  if (want.db) out.db = sum_in_chunk_order(bias_partials, chunks, n);
  return out;
}

}  // namespace tapegrad::conv_bf16
