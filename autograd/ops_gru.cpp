// gru_sequence: Keras' GRU over a whole sequence, forward and backward through time, with
// reset_after (Keras 2's default: the reset gate scales the recurrent product, which then has a
// bias of its own) or without (the reset gate scales h before its product with U_h, so each step
// makes two recurrent GEMMs).
//
// Buffers, (batch, steps, 3 units) in processing order: `gates` starts as the input projection
// x W and holds z, r, hh after the step's pass; `rec` holds what the backward needs of the
// recurrent side: with reset_after, h U + bias[1] (its h part is the candidate's r_h); without,
// h U_zr in the z, r part and q = r * h in the h part. A masked (skipped) step keeps the previous
// h; its gradients are zero and the carried dh passes through it.
#include "autograd/recurrent_common.h"
#include "core/gemm.h"
#include "tapegrad/autograd/recurrent.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/parallel.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad {

Variable gru_sequence(const Variable& x, const Variable& kernel, const Variable& recurrent_kernel, const Variable& bias,
                      const Variable& h0, const GRUOpOptions& o) {
  using namespace recurrent;
  const Tensor xv = x.value(), w = kernel.value(), u = recurrent_kernel.value();
  const SequenceDims d = check_sequence_shapes("gru", xv, w, u, 3);
  const int64_t U = d.units, G = 3 * U, T = d.steps;
  check_bias("gru", bias, o.reset_after ? Shape({2, G}) : Shape({G}));
  check_state("gru", h0, d);
  const bool has_bias = bias.defined(), has_h0 = h0.defined();
  const Tensor h_init = has_h0 ? h0.value() : Tensor::zeros({d.batch, U});
  const std::vector<uint8_t> read = steps_read("gru", o.mask, d, o.go_backwards);
  Tensor gates = reorder_steps(matmul(xv.reshape({d.batch * T, d.features}), w), d.batch, T, o.go_backwards);
  Tensor rec = Tensor::empty({d.batch * T, G});
  Tensor out = Tensor::empty({d.batch, T, U});
  const float* b_in = has_bias ? bias.value().data() : nullptr;
  const float* b_rec = has_bias && o.reset_after ? bias.value().data() + G : nullptr;
  float *gp = gates.data(), *rp = rec.data(), *hp = out.data();
  // A skipped step's h is the one before (after the pass, which wrote its h).
  auto carry_skipped = [&](int64_t lo, int64_t hi, int64_t s, const float* h_prev_base, int64_t h_ld) {
    for (int64_t b = lo; b < hi; ++b)
      if (skipped(read, T, b, s)) std::copy_n(h_prev_base + (b - lo) * h_ld, U, hp + (b * T + s) * U);
  };
  for (int64_t s = 0; s < T; ++s) {
    parallel_chunks(d.batch, kRowsPerChunk, [&](int64_t, int64_t lo, int64_t hi) {
      const float* h_prev0 = s == 0 ? h_init.data() + lo * U : hp + (lo * T + s - 1) * U;
      const int64_t h_ld = s == 0 ? U : T * U;
      auto h_prev_of = [&](int64_t b) { return s == 0 ? h_init.data() + b * U : hp + (b * T + s - 1) * U; };
      // The recurrent product: all three gates with reset_after, z and r only without.
      gemm({h_prev0, h_ld}, {u.data(), G}, rp + (lo * T + s) * G, T * G, hi - lo, U, o.reset_after ? G : 2 * U);
      for (int64_t b = lo; b < hi; ++b) {
        float* g = gp + (b * T + s) * G;
        float* r = rp + (b * T + s) * G;
        const float* h_prev = h_prev_of(b);
        for (int64_t j = 0; j < U; ++j) {
          const float rz = r[j] + (b_rec ? b_rec[j] : 0.0f), rr = r[U + j] + (b_rec ? b_rec[U + j] : 0.0f);
          const float z = activate(o.recurrent_activation, g[j] + (b_in ? b_in[j] : 0.0f) + rz);
          const float rg = activate(o.recurrent_activation, g[U + j] + (b_in ? b_in[U + j] : 0.0f) + rr);
          g[j] = z, g[U + j] = rg;
          if (o.reset_after) {
            const float rh = r[2 * U + j] + (b_rec ? b_rec[2 * U + j] : 0.0f);
            r[2 * U + j] = rh;  // kept for the backward
            const float hh = activate(o.activation, g[2 * U + j] + (b_in ? b_in[2 * U + j] : 0.0f) + rg * rh);
            g[2 * U + j] = hh;
            hp[(b * T + s) * U + j] = z * h_prev[j] + (1.0f - z) * hh;
          } else {
            r[2 * U + j] = rg * h_prev[j];  // q, the reset state
          }
        }
      }
      if (o.reset_after) return carry_skipped(lo, hi, s, h_prev0, h_ld);
      // Without reset_after: the candidate's product q U_h, then h.
      gemm({rp + (lo * T + s) * G + 2 * U, T * G}, {u.data() + 2 * U, G}, gp + (lo * T + s) * G + 2 * U, T * G, hi - lo, U, U,
           /*accumulate=*/true);
      for (int64_t b = lo; b < hi; ++b) {
        float* g = gp + (b * T + s) * G;
        const float* h_prev = h_prev_of(b);
        for (int64_t j = 0; j < U; ++j) {
          const float hh = activate(o.activation, g[2 * U + j] + (b_in ? b_in[2 * U + j] : 0.0f));
          g[2 * U + j] = hh;
          hp[(b * T + s) * U + j] = g[j] * h_prev[j] + (1.0f - g[j]) * hh;
        }
      }
      carry_skipped(lo, hi, s, h_prev0, h_ld);
    });
  }

  std::vector<Variable> inputs{x, kernel, recurrent_kernel};
  if (has_bias) inputs.push_back(bias);
  const size_t h0_index = inputs.size();
  if (has_h0) inputs.push_back(h0);
  return record("gru", out, inputs, [=](const Tensor& grad, GradSink& sink) {
    // dx_g: the gradients of the input projection's pre-activations z, r, h; drec: those of the
    // recurrent product (with reset_after; without, its z, r part equals dx_g's).
    Tensor dxg = Tensor::empty({d.batch * T, G}), drec = Tensor::empty({d.batch * T, G});
    Tensor dh_next = Tensor::zeros({d.batch, U}), dq = Tensor::empty({d.batch, U});
    const float *gp = gates.data(), *rp = rec.data(), *hp = out.data();
    float *dxp = dxg.data(), *drp = drec.data();
    for (int64_t s = T - 1; s >= 0; --s) {
      parallel_chunks(d.batch, kRowsPerChunk, [&](int64_t, int64_t lo, int64_t hi) {
        auto h_prev_of = [&](int64_t b) { return s == 0 ? h_init.data() + b * U : hp + (b * T + s - 1) * U; };
        for (int64_t b = lo; b < hi; ++b) {
          const float* g = gp + (b * T + s) * G;
          const float* h_prev = h_prev_of(b);
          const float* dy = grad.data() + (b * T + s) * U;
          float* dhn = dh_next.data() + b * U;
          float* dx = dxp + (b * T + s) * G;
          if (skipped(read, T, b, s)) {  // zero gradients (so the products below add nothing); dh passes through
            std::fill_n(dx, G, 0.0f);
            for (int64_t j = 0; j < U; ++j) dhn[j] += dy[j];
            continue;
          }
          for (int64_t j = 0; j < U; ++j) {
            const float z = g[j], hh = g[2 * U + j];
            const float dh = dy[j] + dhn[j];
            dx[j] = dh * (h_prev[j] - hh) * derivative_from_value(o.recurrent_activation, z);
            dx[2 * U + j] = dh * (1.0f - z) * derivative_from_value(o.activation, hh);
            dhn[j] = dh * z;  // the direct path; the products' parts are added below
          }
        }
        if (o.reset_after) {
          for (int64_t b = lo; b < hi; ++b) {
            const float* g = gp + (b * T + s) * G;
            const float* r = rp + (b * T + s) * G;
            float* dx = dxp + (b * T + s) * G;
            float* dr = drp + (b * T + s) * G;
            for (int64_t j = 0; j < U; ++j) {
              const float rg = g[U + j];
              dx[U + j] = dx[2 * U + j] * r[2 * U + j] * derivative_from_value(o.recurrent_activation, rg);
              dr[j] = dx[j], dr[U + j] = dx[U + j], dr[2 * U + j] = dx[2 * U + j] * rg;
            }
          }
          // dh += drec U^T.
          gemm({drp + (lo * T + s) * G, T * G}, {u.data(), G, /*transposed=*/true}, dh_next.data() + lo * U, U, hi - lo, G, U,
               /*accumulate=*/true);
          return;
        }
        // Without reset_after: dq = dhh U_h^T; dr from dq; dh += dq * r + [dz, dr] U_zr^T.
        gemm({dxp + (lo * T + s) * G + 2 * U, T * G}, {u.data() + 2 * U, G, /*transposed=*/true}, dq.data() + lo * U, U, hi - lo,
             U, U);
        for (int64_t b = lo; b < hi; ++b) {
          const float* g = gp + (b * T + s) * G;
          const float* h_prev = h_prev_of(b);
          const float* dqr = dq.data() + b * U;
          float* dx = dxp + (b * T + s) * G;
          float* dhn = dh_next.data() + b * U;
          for (int64_t j = 0; j < U; ++j) {
            const float rg = g[U + j];
            dx[U + j] = dqr[j] * h_prev[j] * derivative_from_value(o.recurrent_activation, rg);
            dhn[j] += dqr[j] * rg;
          }
        }
        gemm({dxp + (lo * T + s) * G, T * G}, {u.data(), G, /*transposed=*/true}, dh_next.data() + lo * U, U, hi - lo, 2 * U, U,
             /*accumulate=*/true);
      });
    }
    if (sink.needs(2)) {
      const Tensor h_prev = previous_states(out, 0, U, h_init);
      if (o.reset_after) {
        sink.set(2, matmul(h_prev, drec, true, false));
      } else {
        // dU_zr = h_prev^T [dz, dr], dU_h = q^T dhh; q is rec's h part.
        Tensor du = Tensor::empty({U, G});
        add_transposed_product(h_prev, dxg.data(), G, 2 * U, du.data(), G);
        Tensor q = Tensor::empty({d.batch * T, U});
        for (int64_t r = 0; r < d.batch * T; ++r) std::copy_n(rp + r * G + 2 * U, U, q.data() + r * U);
        add_transposed_product(q, dxg.data() + 2 * U, G, U, du.data() + 2 * U, G);
        sink.set(2, du);
      }
    }
    const Tensor dx_input = reorder_steps(dxg, d.batch, T, o.go_backwards);
    if (sink.needs(0)) sink.set(0, matmul(dx_input, w, false, true).reshape(xv.shape()));
    if (sink.needs(1)) sink.set(1, matmul(xv.reshape({d.batch * T, d.features}), dx_input, true, false));
    if (has_bias && sink.needs(3)) {
      if (o.reset_after) {
        Tensor db = Tensor::empty({2, G});
        const Tensor in = column_sums(dxg), re = column_sums(drec);
        std::copy_n(in.data(), G, db.data());
        std::copy_n(re.data(), G, db.data() + G);
        sink.set(3, db);
      } else {
        sink.set(3, column_sums(dxg));
      }
    }
    if (has_h0 && sink.needs(h0_index)) sink.set(h0_index, dh_next);
  });
}

}  // namespace tapegrad
