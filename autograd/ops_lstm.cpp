// lstm_sequence: Keras' LSTM over a whole sequence, forward and backward through time.
//
// Forward: the input projection of every step, x W, is one GEMM into the gate buffer
// (batch, steps, 4 units); then, step by step and in parallel over fixed blocks of units (all
// rows of the batch, so each task reads its columns of U once per step), h_prev U is added (one
// product per gate, on U packed once into panels: recurrent_product.h) and one pass turns the
// sums into the activated gates (kept for the backward) and the new c and h (the output).
// Backward: step by step from the last, one pass makes the gates' gradients dZ from the output
// gradient and the carried dh, dc, and one product (U^T packed once) carries dh = dZ U^T to the
// step before; after the loop, dU, dW, db and dx are one GEMM (or sum) each over all steps. No
// allocation per step. A masked (skipped) step keeps the previous h and c; its gates' gradients
// are zero and the carried dh, dc pass through it.
// Under mixed_bfloat16 (the thread's compute dtype when the forward runs, kept for the
// backward), every product is bf16 with float32 accumulation: the GEMMs through matmul's bf16
// path, the step products on U's panels packed in bf16, h (and dZ) converted to bf16 by the
// block that makes it; the gate passes, the states and the bias sums stay float32, as Keras
// keeps them.
#include <array>
#include <cmath>
#include <vector>

#include "autograd/recurrent_common.h"
#include "autograd/recurrent_product.h"
#include "tapegrad/autograd/compute_dtype.h"
#include "tapegrad/autograd/recurrent.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/parallel.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad {

namespace {

using recurrent::activate_in_place;
using recurrent::derivative_from_value;
// Units per task in the step loops: fixed, so the split does not depend on the thread count.
// Each task takes all rows of the batch and its units' columns of U.
constexpr int64_t kUnitsPerChunk = recurrent::PanelMatrix::kPanel;

struct Dims {
  int64_t batch, steps, features, units;
  int64_t gates() const { return 4 * units; }
};

}  // namespace

Variable lstm_sequence(const Variable& x, const Variable& kernel, const Variable& recurrent_kernel, const Variable& bias,
                       const Variable& h0, const Variable& c0, const LSTMOpOptions& o) {
  const Tensor xv = x.value(), w = kernel.value(), u = recurrent_kernel.value();
  const recurrent::SequenceDims sd = recurrent::check_sequence_shapes("lstm", xv, w, u, 4);
  const Dims d{sd.batch, sd.steps, sd.features, sd.units};
  const bool has_bias = bias.defined();
  recurrent::check_bias("lstm", bias, Shape({d.gates()}));
  recurrent::check_state("lstm", h0, sd);
  recurrent::check_state("lstm", c0, sd);
  const int64_t U = d.units, G = d.gates(), T = d.steps;
  const Tensor h_init = h0.defined() ? h0.value() : Tensor::zeros({d.batch, U});
  const Tensor c_init = c0.defined() ? c0.value() : Tensor::zeros({d.batch, U});
  const std::vector<uint8_t> read = recurrent::steps_read("lstm", o.mask, sd, o.go_backwards);

  // gates (batch, steps, 4U) in processing order s (go_backwards: step s reads input step T - 1 - s).
  const Dtype dt = active_compute_dtype();
  const bool bf16 = dt == Dtype::bfloat16;
  Tensor gates = recurrent::reorder_steps(matmul(xv.reshape({d.batch * T, d.features}), w, false, false, dt), d.batch, T,
                                          o.go_backwards);
  gates = gates.reshape({d.batch, T, G});
  Tensor out = Tensor::empty({d.batch, T, 2 * U});
  const float* bp = has_bias ? bias.value().data() : nullptr;
  float* gp = gates.data();
  float* op = out.data();
  const recurrent::PanelMatrix u_panels(u.data(), G, /*transposed=*/false, U, 4, U, dt);  // a panel per gate and block of units
  // bfloat16: h_prev in bf16 for the step's products, in two buffers: each block converts its
  // units of the new h into the other one as it makes them (in parallel, no pass of its own).
  std::array<AlignedVector<uint16_t>, 2> h_bf16;
  if (bf16) {
    u_panels.to_bf16_rows(h_init.data(), U, d.batch, h_bf16[0]);
    h_bf16[1] = h_bf16[0];  // the size and the zeros past U
  }
  const int64_t h_bf16_ld = u_panels.bf16_row_stride();
  for (int64_t s = 0; s < T; ++s) {
    const uint16_t* h_read = h_bf16[s % 2].data();
    uint16_t* h_write = h_bf16[(s + 1) % 2].data();
    // A block of units at a time, all rows: each task reads its columns of U once per step.
    parallel_chunks(U, kUnitsPerChunk, [&](int64_t, int64_t j0, int64_t j1) {
      const float* h_prev = s == 0 ? h_init.data() : op + (s - 1) * 2 * U;
      const int64_t h_ld = s == 0 ? U : T * 2 * U;
      for (int64_t q = 0; q < 4; ++q) {  // z += h_prev U for gate q's columns of these units
        float* z = gp + s * G + q * U + j0;
        if (bf16)
          u_panels.multiply(h_read, d.batch, q, j0 / kUnitsPerChunk, z, T * G, /*accumulate=*/true);
        else
          u_panels.multiply(h_prev, h_ld, d.batch, q, j0 / kUnitsPerChunk, z, T * G, /*accumulate=*/true);
      }
      const int64_t n = j1 - j0;
      auto bias_at = [bp](int64_t k) { return bp ? bp + k : nullptr; };
      for (int64_t b = 0; b < d.batch; ++b) {
        float* z = gp + (b * T + s) * G;  // becomes the activated gates i, f, g, o, kept for the backward
        const float* c_prev = s == 0 ? c_init.data() + b * U : op + (b * T + s - 1) * 2 * U + U;
        float* h = op + (b * T + s) * 2 * U;
        float* c = h + U;
        activate_in_place(o.recurrent_activation, z + j0, bias_at(j0), n);
        activate_in_place(o.recurrent_activation, z + U + j0, bias_at(U + j0), n);
        activate_in_place(o.activation, z + 2 * U + j0, bias_at(2 * U + j0), n);
        activate_in_place(o.recurrent_activation, z + 3 * U + j0, bias_at(3 * U + j0), n);
        for (int64_t j = j0; j < j1; ++j) h[j] = c[j] = z[U + j] * c_prev[j] + z[j] * z[2 * U + j];
        activate_in_place(o.activation, h + j0, nullptr, n);
        for (int64_t j = j0; j < j1; ++j) h[j] *= z[3 * U + j];
        if (recurrent::skipped(read, T, b, s)) {  // the states carry over
          const float* h_prev_b = s == 0 ? h_init.data() + b * U : op + (b * T + s - 1) * 2 * U;
          std::copy(h_prev_b + j0, h_prev_b + j1, h + j0);
          std::copy(c_prev + j0, c_prev + j1, c + j0);
        }
        if (bf16) convert_to_bf16(h + j0, n, h_write + b * h_bf16_ld + j0);
      }
    });
  }

  std::vector<Variable> inputs{x, kernel, recurrent_kernel};
  if (has_bias) inputs.push_back(bias);
  const bool has_h0 = h0.defined(), has_c0 = c0.defined();
  const size_t h0_index = inputs.size();
  if (has_h0) inputs.push_back(h0);
  const size_t c0_index = inputs.size();
  if (has_c0) inputs.push_back(c0);
  return record(bf16 ? "lstm_bf16" : "lstm", out, inputs, [=, o = o](const Tensor& grad, GradSink& sink) {
    const float* dout = grad.data();
    const float* op = out.data();
    const float* gp = gates.data();
    Tensor dz = Tensor::empty({d.batch, T, G});
    Tensor dh_next = Tensor::zeros({d.batch, U}), dc_next = Tensor::zeros({d.batch, U});
    float* dzp = dz.data();
    const recurrent::PanelMatrix ut_panels(u.data(), G, /*transposed=*/true, G, 1, U, dt);  // U^T, a panel per block of units
    // bfloat16: the step's dZ in bf16 for its product, each block converting the gradients it makes.
    const int64_t dz_bf16_ld = ut_panels.bf16_row_stride();
    AlignedVector<uint16_t> dz_bf16(bf16 ? static_cast<size_t>(d.batch * dz_bf16_ld) : 0, uint16_t{0});
    // Runs a loop with both activations as compile-time constants (recurrent::with_activation).
    const auto gate_gradients = [&](auto&& loop) {
      recurrent::with_activation(o.activation, [&](auto act) {
        recurrent::with_activation(o.recurrent_activation, [&](auto rec) { loop(act, rec); });
      });
    };
    for (int64_t s = T - 1; s >= 0; --s) {
      // The gates' gradients, a block of units at a time...
      parallel_chunks(U, kUnitsPerChunk, [&](int64_t, int64_t j0, int64_t j1) {
        thread_local std::vector<float> ac_buffer;  // a(c) of this block's units
        ac_buffer.resize(static_cast<size_t>(j1 - j0));
        float* ac = ac_buffer.data();
        for (int64_t b = 0; b < d.batch; ++b) {
          const float* z = gp + (b * T + s) * G;  // the activated gates i, f, g, o
          const float* c = op + (b * T + s) * 2 * U + U;
          const float* c_prev = s == 0 ? c_init.data() + b * U : op + (b * T + s - 1) * 2 * U + U;
          const float* dh_out = dout + (b * T + s) * 2 * U;
          float* dhn = dh_next.data() + b * U;
          float* dcn = dc_next.data() + b * U;
          float* dzr = dzp + (b * T + s) * G;
          const auto to_bf16_row = [&] {
            if (bf16)
              for (int64_t q = 0; q < 4; ++q) convert_to_bf16(dzr + q * U + j0, j1 - j0, dz_bf16.data() + b * dz_bf16_ld + q * U + j0);
          };
          if (recurrent::skipped(read, T, b, s)) {  // no gate gradient; dh (for the GEMM to add to) and dc pass through
            for (int64_t q = 0; q < 4; ++q) std::fill(dzr + q * U + j0, dzr + q * U + j1, 0.0f);
            for (int64_t j = j0; j < j1; ++j) {
              dhn[j] += dh_out[j];
              dcn[j] += dh_out[U + j];
            }
            to_bf16_row();
            continue;
          }
          std::copy(c + j0, c + j1, ac);
          activate_in_place(o.activation, ac, nullptr, j1 - j0);  // a(c), as the forward made h
          gate_gradients([&](auto act, auto rec) {
            for (int64_t j = j0; j < j1; ++j) {
              const float i = z[j], f = z[U + j], g = z[2 * U + j], og = z[3 * U + j];
              const float dh = dh_out[j] + dhn[j];
              const float a = ac[j - j0];
              const float dc = dh_out[U + j] + dcn[j] + dh * og * derivative_from_value(act, a);
              dzr[j] = dc * g * derivative_from_value(rec, i);
              dzr[U + j] = dc * c_prev[j] * derivative_from_value(rec, f);
              dzr[2 * U + j] = dc * i * derivative_from_value(act, g);
              dzr[3 * U + j] = dh * a * derivative_from_value(rec, og);
              dcn[j] = dc * f;
              dhn[j] = 0.0f;  // read above; the product below writes it
            }
          });
          to_bf16_row();
        }
      });
      // ... then dh for the step before, dZ U^T, which needs every gate's gradient (added to what
      // passes through skipped steps, zero elsewhere).
      parallel_chunks(U, kUnitsPerChunk, [&](int64_t, int64_t j0, int64_t) {
        if (bf16)
          ut_panels.multiply(dz_bf16.data(), d.batch, 0, j0 / kUnitsPerChunk, dh_next.data() + j0, U, !read.empty());
        else
          ut_panels.multiply(dzp + s * G, T * G, d.batch, 0, j0 / kUnitsPerChunk, dh_next.data() + j0, U, !read.empty());
      });
    }
    const Tensor dz_rows = dz.reshape({d.batch * T, G});
    // dU = sum over steps of h_prev^T dZ, as one GEMM.
    if (sink.needs(2)) sink.set(2, matmul(recurrent::previous_states(out, 0, U, h_init), dz_rows, true, false, dt));
    // The gradients in input-step order, for the kernel, the bias and x.
    const Tensor dz_input = recurrent::reorder_steps(dz_rows, d.batch, T, o.go_backwards);
    if (sink.needs(0)) sink.set(0, matmul(dz_input, w, false, true, dt).reshape(xv.shape()));
    if (sink.needs(1)) sink.set(1, matmul(xv.reshape({d.batch * T, d.features}), dz_input, true, false, dt));
    if (has_bias && sink.needs(3)) sink.set(3, recurrent::column_sums(dz_rows));
    if (has_h0 && sink.needs(h0_index)) sink.set(h0_index, dh_next);
    if (has_c0 && sink.needs(c0_index)) sink.set(c0_index, dc_next);
  });
}

}  // namespace tapegrad
