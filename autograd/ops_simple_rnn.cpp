// simple_rnn_sequence: Keras' SimpleRNN over a whole sequence, forward and backward through time.
// Forward: h starts as the input projection x W of every step (one GEMM, in processing order);
// step by step, each chunk of the batch adds h_prev U (one GEMM) and applies bias and activation
// in place. Backward: from the last step, dz = (dy + dh) * a'(h) and dh = dz U^T (one GEMM);
// then dU, dW, db and dx are one GEMM (or sum) each over all steps. A masked (skipped) step keeps
// the previous h; its dz is zero and the carried dh passes through it.
#include "autograd/recurrent_common.h"
#include "core/gemm.h"
#include "tapegrad/autograd/recurrent.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/parallel.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad {

Variable simple_rnn_sequence(const Variable& x, const Variable& kernel, const Variable& recurrent_kernel,
                             const Variable& bias, const Variable& h0, const SimpleRNNOpOptions& o) {
  using namespace recurrent;
  const Tensor xv = x.value(), w = kernel.value(), u = recurrent_kernel.value();
  const SequenceDims d = check_sequence_shapes("simple_rnn", xv, w, u, 1);
  check_bias("simple_rnn", bias, Shape({d.units}));
  check_state("simple_rnn", h0, d);
  const int64_t U = d.units, T = d.steps;
  const bool has_bias = bias.defined(), has_h0 = h0.defined();
  const Tensor h_init = has_h0 ? h0.value() : Tensor::zeros({d.batch, U});
  const std::vector<uint8_t> read = steps_read("simple_rnn", o.mask, d, o.go_backwards);
  Tensor out = reorder_steps(matmul(xv.reshape({d.batch * T, d.features}), w), d.batch, T, o.go_backwards)
                         .reshape({d.batch, T, U});
  const float* bp = has_bias ? bias.value().data() : nullptr;
  float* hp = out.data();
  for (int64_t s = 0; s < T; ++s) {
    parallel_chunks(d.batch, kRowsPerChunk, [&](int64_t, int64_t lo, int64_t hi) {
      const float* h_prev = s == 0 ? h_init.data() + lo * U : hp + (lo * T + s - 1) * U;
      gemm({h_prev, s == 0 ? U : T * U}, {u.data(), U}, hp + (lo * T + s) * U, T * U, hi - lo, U, U, /*accumulate=*/true);
      for (int64_t b = lo; b < hi; ++b) {
        activate_in_place(o.activation, hp + (b * T + s) * U, bp, U);
        if (skipped(read, T, b, s)) std::copy_n(h_prev + (b - lo) * (s == 0 ? U : T * U), U, hp + (b * T + s) * U);
      }
    });
  }

  std::vector<Variable> inputs{x, kernel, recurrent_kernel};
  if (has_bias) inputs.push_back(bias);
  const size_t h0_index = inputs.size();
  if (has_h0) inputs.push_back(h0);
  return record("simple_rnn", out, inputs, [=](const Tensor& grad, GradSink& sink) {
    Tensor dz = Tensor::empty({d.batch * T, U});
    Tensor dh_next = Tensor::zeros({d.batch, U});
    const float* hp = out.data();
    float* dzp = dz.data();
    for (int64_t s = T - 1; s >= 0; --s) {
      parallel_chunks(d.batch, kRowsPerChunk, [&](int64_t, int64_t lo, int64_t hi) {
        for (int64_t b = lo; b < hi; ++b) {
          const float* h = hp + (b * T + s) * U;
          const float* dy = grad.data() + (b * T + s) * U;
          float* dhn = dh_next.data() + b * U;
          float* dzr = dzp + (b * T + s) * U;
          if (skipped(read, T, b, s)) {  // no dz; dh passes through (the GEMM adds nothing to it)
            std::fill_n(dzr, U, 0.0f);
            for (int64_t j = 0; j < U; ++j) dhn[j] += dy[j];
            continue;
          }
          for (int64_t j = 0; j < U; ++j) {
            dzr[j] = (dy[j] + dhn[j]) * derivative_from_value(o.activation, h[j]);
            dhn[j] = 0.0f;  // read; the GEMM below writes it
          }
        }
        gemm({dzp + (lo * T + s) * U, T * U}, {u.data(), U, /*transposed=*/true}, dh_next.data() + lo * U, U, hi - lo, U, U,
             /*accumulate=*/!read.empty());
      });
    }
    if (sink.needs(2)) sink.set(2, matmul(previous_states(out, 0, U, h_init), dz, true, false));
    const Tensor dz_input = reorder_steps(dz, d.batch, T, o.go_backwards);
    if (sink.needs(0)) sink.set(0, matmul(dz_input, w, false, true).reshape(xv.shape()));
    if (sink.needs(1)) sink.set(1, matmul(xv.reshape({d.batch * T, d.features}), dz_input, true, false));
    if (has_bias && sink.needs(3)) sink.set(3, column_sums(dz));
    if (has_h0 && sink.needs(h0_index)) sink.set(h0_index, dh_next);
  });
}

}  // namespace tapegrad
