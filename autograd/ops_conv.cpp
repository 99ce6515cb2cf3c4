// conv and conv_transpose: forward and backward, both through the same three products of
// autograd/conv_engine.h (the transposed convolution's forward is the convolution's input
// gradient, and the other way round).
#include <string>

#include "tapegrad/autograd/conv.h"
#include "autograd/conv_bf16.h"
#include "autograd/conv_engine.h"
#include "tapegrad/autograd/compute_dtype.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/error.h"

namespace tapegrad {

namespace {

std::vector<int64_t> ones_if_empty(const std::vector<int64_t>& v, size_t n) { return v.empty() ? std::vector<int64_t>(n, 1) : v; }

int spatial_rank_of(const std::string& op, const Shape& x, const Shape& w) {
  const int r = x.rank() - 2;
  if (r < 1 || r > 3)
    fail(op, "input " + x.str() + " must be (batch, *spatial, channels) with 1 to 3 spatial dims");
  if (w.rank() != r + 2)
    fail(op, "kernel " + w.str() + " must have " + std::to_string(r + 2) + " dims (*window, in, out) for input " + x.str());
  return r;
}

std::vector<int64_t> window_of(const Shape& w, int r) { return std::vector<int64_t>(w.begin(), w.begin() + r); }

}  // namespace

ConvGeometry conv_geometry(const std::string& op, const Shape& x, const std::vector<int64_t>& kernel, int64_t c_out,
                           const ConvParams& p) {
  const size_t r = static_cast<size_t>(x.rank() - 2);
  if (x.rank() < 3 || x.rank() > 5)
    fail(op, "input " + x.str() + " must be (batch, *spatial, channels) with 1 to 3 spatial dims");
  return make_conv_geometry(op, x[0], std::vector<int64_t>(x.begin() + 1, x.end() - 1), x[x.rank() - 1], kernel, c_out,
                            ones_if_empty(p.strides, r), ones_if_empty(p.dilation, r), p.padding);
}

Variable conv(const Variable& x, const Variable& w, const ConvParams& params, const Variable& bias, bool relu) {
  const int r = spatial_rank_of("conv", x.shape(), w.shape());
  const Shape ws = w.shape();
  if (ws[r] != x.dim(-1))
    fail("conv", "kernel " + ws.str() + " expects " + std::to_string(ws[r]) + " input channels, input " + x.shape().str() +
                     " has " + std::to_string(x.dim(-1)));
  if (bias.defined() && bias.shape() != Shape{ws[r + 1]})
    fail("conv", "bias " + bias.shape().str() + " must be (" + std::to_string(ws[r + 1]) + ",) for kernel " + ws.str());
  const ConvGeometry g = conv_geometry("conv", x.shape(), window_of(ws, r), ws[r + 1], params);
  const Tensor xv = x.value(), wv = w.value();
  const Dtype dt = active_compute_dtype();
  const Tensor y = conv_engine::forward(xv, wv, g, {bias.defined() ? bias.value().data() : nullptr, relu}, dt);
  auto backward = [xv, wv, g, y, relu, dt, with_bias = bias.defined()](const Tensor& dy, GradSink& s) {
    const bool has_bias = with_bias && s.needs(2);
    // The input's gradient from its other consumers, when the tape lets it be added into.
    Tensor* dx_into = s.needs(0) && conv_engine::adds_input_gradient(g, dt) ? s.accumulator(0) : nullptr;
    auto grads = conv_engine::backward(xv, wv, dy, g, {s.needs(0), s.needs(1), has_bias, relu ? &y : nullptr, dt, dx_into});
    if (dx_into)
      s.added(0);
    else if (s.needs(0))
      s.set(0, grads.dx);
    if (s.needs(1)) s.set(1, grads.dw);
    if (has_bias) s.set(2, grads.db);
  };
  const char* op = dt != Dtype::bfloat16                                 ? "conv"
                   : conv_bf16::runs_as_rounded_float32(g, bf16_isa()) ? "conv_bf16_as_fp32"
                                                                       : "conv_bf16";
  if (bias.defined()) return record(op, y, {x, w, bias}, backward);
  return record(op, y, {x, w}, backward);
}

Variable conv_transpose(const Variable& x, const Variable& w, const ConvParams& params,
                        const std::vector<int64_t>& output_padding) {
  const char* op = "conv_transpose";
  const int r = spatial_rank_of(op, x.shape(), w.shape());
  const Shape ws = w.shape();  // (*kernel, c_out, c_in)
  if (ws[r + 1] != x.dim(-1))
    fail(op, "kernel " + ws.str() + " expects " + std::to_string(ws[r + 1]) + " input channels, input " +
                 x.shape().str() + " has " + std::to_string(x.dim(-1)));
  if (params.padding == "causal") fail(op, "causal padding is not defined for transposed convolutions");
  const auto strides = ones_if_empty(params.strides, r), dilation = ones_if_empty(params.dilation, r);
  if (strides.size() != static_cast<size_t>(r) || dilation.size() != static_cast<size_t>(r))
    fail(op, "strides and dilation need " + std::to_string(r) + " entries for input " + x.shape().str());
  if (!output_padding.empty() && output_padding.size() != static_cast<size_t>(r))
    fail(op, "output_padding needs " + std::to_string(r) + " entries for input " + x.shape().str());
  // The equivalent convolution maps the (larger) output back onto x.
  std::vector<int64_t> out_spatial(r);
  for (int i = 0; i < r; ++i) {
    const int64_t op_i = output_padding.empty() ? -1 : output_padding[i];
    if (op_i >= 0 && op_i >= strides[i])
      fail(op, "output_padding " + std::to_string(op_i) + " must be smaller than the stride " + std::to_string(strides[i]));
    out_spatial[i] = conv_transpose_output_length(x.dim(1 + i), ws[i], strides[i], dilation[i], params.padding, op_i);
    if (out_spatial[i] < 1) fail(op, "input " + x.shape().str() + " gives an empty output");
  }
  const ConvGeometry g = make_conv_geometry(op, x.dim(0), out_spatial, ws[r], window_of(ws, r), ws[r + 1], strides,
                                            dilation, params.padding);
  for (int i = 0; i < r; ++i)
    if (g.out[3 - r + i] != x.dim(1 + i))
      fail(op, "output size " + std::to_string(out_spatial[i]) + " does not map back onto the input " + x.shape().str());
  const Tensor xv = x.value(), wv = w.value();
  const Dtype dt = active_compute_dtype();
  // The equivalent convolution's input gradient, with x in the role of its output gradient.
  const Tensor y = conv_engine::backward(Tensor(), wv, xv, g, {.dx = true, .compute = dt}).dx;
  const char* name = dt != Dtype::bfloat16                                 ? op
                     : conv_bf16::runs_as_rounded_float32(g, bf16_isa()) ? "conv_transpose_bf16_as_fp32"
                                                                         : "conv_transpose_bf16";
  return record(name, y, {x, w}, [xv, wv, g, dt](const Tensor& dy, GradSink& s) {
    if (s.needs(0)) s.set(0, conv_engine::forward(dy, wv, g, {}, dt));
    if (s.needs(1)) s.set(1, conv_engine::backward(dy, wv, xv, g, {.dw = true, .compute = dt}).dw);
  });
}

}  // namespace tapegrad
