// dropout and recurrent_dropout by Keras 2.15's rules (keras/layers/rnn/lstm.py, gru.py,
// simple_rnn.py, dropout_rnn_cell_mixin.py), checked by drawing the same masks from a copy of the
// layer's generator and computing what Keras computes with them:
// - Keras' fused kernel (tanh, sigmoid, a bias, no recurrent_dropout; a GRU with reset_after)
//   drops the input sequence element by element;
// - its cells (other activations, no bias, a SimpleRNN) draw one input mask (batch, features)
//   and keep it for every step;
// - with recurrent_dropout its cells run with implementation 1: each gate its own input mask
//   and its own state mask (batch, units), the same at every step, input masks drawn first.
// Inference ignores both. A layer with dropout learns, and its generator is in checkpoints.
#include <gtest/gtest.h>

#include "../error_matchers.h"
#include "../test_data.h"
#include "tapegrad/tapegrad.h"

namespace tg = tapegrad;
using tg::Shape;
using tg::Tensor;
using tg::Variable;

namespace {

constexpr int64_t kBatch = 3, kSteps = 4, kFeatures = 5, kUnits = 2;

tg::Rng& generator_of(tg::Layer& layer) {
  auto g = layer.random_generators();
  EXPECT_EQ(g.size(), 1u);
  return *g.at(0).second;
}

void expect_near(const Tensor& a, const Tensor& b, float tol) {
  ASSERT_EQ(a.shape(), b.shape());
  for (int64_t k = 0; k < a.numel(); ++k) ASSERT_NEAR(a.data()[k], b.data()[k], tol) << k;
}

Variable gate(const Variable& w, int64_t q) { return tg::slice(w, w.rank() - 1, q * kUnits, (q + 1) * kUnits); }

// Keras' LSTMCell with implementation 1, written out: gate q reads x * input_masks[q] and
// h * recurrent_masks[q]. Returns the last h.
Tensor keras_lstm_implementation_1(const Tensor& x, tg::LSTM& l, const std::vector<Tensor>& in, const std::vector<Tensor>& rec) {
  const Variable w = l.kernel()->var, u = l.recurrent_kernel()->var, b = l.bias()->var;
  Variable h(Tensor::zeros({kBatch, kUnits})), c(Tensor::zeros({kBatch, kUnits}));
  for (int64_t t = 0; t < kSteps; ++t) {
    const Variable xt = tg::reshape(tg::slice(Variable(x), 1, t, t + 1), {kBatch, kFeatures});
    std::vector<Variable> z;
    for (int64_t q = 0; q < 4; ++q)
      z.push_back(tg::matmul(xt * Variable(in[q]), gate(w, q)) + gate(b, q) + tg::matmul(h * Variable(rec[q]), gate(u, q)));
    const Variable i = tg::sigmoid(z[0]), f = tg::sigmoid(z[1]), g = tg::tanh(z[2]), o = tg::sigmoid(z[3]);
    c = f * c + i * g;
    h = o * tg::tanh(c);
  }
  return h.value();
}

// Keras' GRUCell (reset_after) with implementation 1, written out.
Tensor keras_gru_implementation_1(const Tensor& x, tg::GRU& l, const std::vector<Tensor>& in, const std::vector<Tensor>& rec) {
  const Variable w = l.kernel()->var, u = l.recurrent_kernel()->var;
  const Variable b_in = tg::reshape(tg::slice(l.bias()->var, 0, 0, 1), {3 * kUnits});
  const Variable b_rec = tg::reshape(tg::slice(l.bias()->var, 0, 1, 2), {3 * kUnits});
  Variable h(Tensor::zeros({kBatch, kUnits}));
  for (int64_t t = 0; t < kSteps; ++t) {
    const Variable xt = tg::reshape(tg::slice(Variable(x), 1, t, t + 1), {kBatch, kFeatures});
    auto xp = [&](int64_t q) { return tg::matmul(xt * Variable(in[q]), gate(w, q)) + gate(b_in, q); };
    auto hp = [&](int64_t q) { return tg::matmul(h * Variable(rec[q]), gate(u, q)) + gate(b_rec, q); };
    const Variable z = tg::sigmoid(xp(0) + hp(0)), r = tg::sigmoid(xp(1) + hp(1));
    const Variable hh = tg::tanh(xp(2) + r * hp(2));
    h = z * h + (1.0f - z) * hh;
  }
  return h.value();
}

}  // namespace

TEST(RecurrentDropout, InferenceIgnoresIt) {
  const Tensor x = tg::testing::normal({kBatch, kSteps, kFeatures}, 1);
  tg::LSTM dropped(kUnits, {.dropout = 0.5f, .recurrent_dropout = 0.3f}), plain(kUnits);
  dropped.build({kSteps, kFeatures});
  plain.build({kSteps, kFeatures});
  plain.set_weights(dropped.get_weights());
  EXPECT_EQ(dropped(Variable(x), false).value().to_vector(), plain(Variable(x), false).value().to_vector());
}

// The fused kernel's rule: the input sequence dropped element by element.
TEST(RecurrentDropout, FusedKernelDropsTheInputElementByElement) {
  const Tensor x = tg::testing::normal({kBatch, kSteps, kFeatures}, 2);
  tg::LSTM dropped(kUnits, {.dropout = 0.4f}), plain(kUnits);
  dropped.build({kSteps, kFeatures});
  plain.build({kSteps, kFeatures});
  plain.set_weights(dropped.get_weights());
  tg::Rng copy = generator_of(dropped);
  const Tensor y = dropped(Variable(x), true).value();
  const Tensor mask = tg::dropout_mask(x.shape(), 0.4f, copy);
  expect_near(y, plain(Variable(tg::mul(x, mask))).value(), 1e-6f);
  // A GRU without reset_after runs Keras' cells instead: one mask for every step.
  tg::GRU cells(kUnits, {.dropout = 0.4f, .reset_after = false}), cells_plain(kUnits, {.reset_after = false});
  cells.build({kSteps, kFeatures});
  cells_plain.build({kSteps, kFeatures});
  cells_plain.set_weights(cells.get_weights());
  tg::Rng copy2 = generator_of(cells);
  const Tensor yc = cells(Variable(x), true).value();
  const Tensor step_mask = tg::dropout_mask(Shape({kBatch, 1, kFeatures}), 0.4f, copy2);
  expect_near(yc, cells_plain(Variable(tg::mul(x, step_mask))).value(), 1e-6f);
}

// Keras' cells keep their input mask for every step: other activations, no bias, SimpleRNN.
TEST(RecurrentDropout, CellsKeepOneInputMaskForEveryStep) {
  const Tensor x = tg::testing::normal({kBatch, kSteps, kFeatures}, 3);
  std::vector<std::pair<std::shared_ptr<tg::RecurrentLayer>, std::shared_ptr<tg::RecurrentLayer>>> pairs = {
      {std::make_shared<tg::LSTM>(kUnits, tg::LSTMOptions{.recurrent_activation = "hard_sigmoid", .dropout = 0.3f}),
       std::make_shared<tg::LSTM>(kUnits, tg::LSTMOptions{.recurrent_activation = "hard_sigmoid"})},
      {std::make_shared<tg::LSTM>(kUnits, tg::LSTMOptions{.use_bias = false, .dropout = 0.3f}),
       std::make_shared<tg::LSTM>(kUnits, tg::LSTMOptions{.use_bias = false})},
      {std::make_shared<tg::SimpleRNN>(kUnits, tg::SimpleRNNOptions{.dropout = 0.3f}), std::make_shared<tg::SimpleRNN>(kUnits)},
  };
  for (auto& [dropped, plain] : pairs) {
    SCOPED_TRACE(dropped->type());
    dropped->build({kSteps, kFeatures});
    plain->build({kSteps, kFeatures});
    plain->set_weights(dropped->get_weights());
    tg::Rng copy = generator_of(*dropped);
    const Tensor y = (*dropped)(Variable(x), true).value();
    const Tensor mask = tg::dropout_mask(Shape({kBatch, 1, kFeatures}), 0.3f, copy);
    expect_near(y, (*plain)(Variable(tg::mul(x, mask))).value(), 1e-6f);
  }
}

// With recurrent_dropout: implementation 1, a mask per gate on the input and on the state.
TEST(RecurrentDropout, RecurrentDropoutMasksEachGatesInputAndState) {
  const Tensor x = tg::testing::normal({kBatch, kSteps, kFeatures}, 4);
  {
    tg::LSTM lstm(kUnits, {.dropout = 0.3f, .recurrent_dropout = 0.4f});
    lstm.build({kSteps, kFeatures});
    tg::Rng copy = generator_of(lstm);
    const Tensor y = lstm(Variable(x), true).value();
    std::vector<Tensor> in, rec;
    for (int q = 0; q < 4; ++q) in.push_back(tg::dropout_mask(Shape({kBatch, kFeatures}), 0.3f, copy));
    for (int q = 0; q < 4; ++q) rec.push_back(tg::dropout_mask(Shape({kBatch, kUnits}), 0.4f, copy));
    expect_near(y, keras_lstm_implementation_1(x, lstm, in, rec), 1e-6f);
  }
  {
    tg::GRU gru(kUnits, {.recurrent_dropout = 0.5f});  // no input dropout: only state masks are drawn
    gru.build({kSteps, kFeatures});
    tg::Rng copy = generator_of(gru);
    const Tensor y = gru(Variable(x), true).value();
    std::vector<Tensor> ones(3, Tensor::ones({kBatch, kFeatures})), rec;
    for (int q = 0; q < 3; ++q) rec.push_back(tg::dropout_mask(Shape({kBatch, kUnits}), 0.5f, copy));
    expect_near(y, keras_gru_implementation_1(x, gru, ones, rec), 1e-6f);
  }
  // The step-by-step run keeps Keras' masking and go_backwards: with rates near 0 (masks of
  // ones), it gives what the fused op gives, padded steps skipped.
  tg::Sequential by_steps({tg::Masking(), tg::GRU(kUnits, {.recurrent_dropout = 1e-9f, .return_sequences = true, .go_backwards = true})});
  tg::Sequential fused({tg::Masking(), tg::GRU(kUnits, {.return_sequences = true, .go_backwards = true})});
  by_steps.build({kSteps, kFeatures});
  fused.build({kSteps, kFeatures});
  fused.set_weights(by_steps.get_weights());
  Tensor padded = x.clone();
  for (int64_t f = 0; f < kFeatures; ++f) padded.at({1, 3, f}) = 0.0f, padded.at({2, 0, f}) = 0.0f;
  expect_near(by_steps(Variable(padded), true).value(), fused(Variable(padded), true).value(), 1e-5f);
}

// The memory task of test_recurrent_layers.cpp, learnt with both dropouts; the generator is
// named in checkpoints ("lstm/rng").
TEST(RecurrentDropout, LearnsWithDropoutAndCheckpointsItsGenerator) {
  const int64_t n = 64, steps = 6;
  const Tensor x = tg::testing::normal({n, steps, 1}, 3);
  Tensor labels = Tensor::zeros({n, 1});
  for (int64_t i = 0; i < n; ++i) labels.data()[i] = x.data()[i * steps] > 0.0f ? 1.0f : 0.0f;
  tg::manual_seed(5);
  tg::Sequential model({tg::LSTM(16, {.dropout = 0.1f, .recurrent_dropout = 0.1f}), tg::Dense(1)});
  model.build({steps, 1});
  const auto generators = model.random_generators();
  ASSERT_EQ(generators.size(), 1u);
  EXPECT_EQ(generators[0].first, "lstm/rng");
  tg::Adam opt(model.trainable_parameters(), {.learning_rate = 0.01f});
  tg::losses::BinaryCrossentropy bce({.from_logits = true});
  for (int step = 0; step < 150; ++step) {
    opt.zero_grad();
    bce(labels, model(Variable(x), true)).backward();
    opt.step();
  }
  const Tensor logits = model(Variable(x), false).value();
  int right = 0;
  for (int64_t i = 0; i < n; ++i) right += (logits.data()[i] > 0.0f) == (labels.data()[i] > 0.5f);
  EXPECT_GE(right, 58) << "of 64";
  EXPECT_TRUE(tg::LSTM(3).random_generators().empty());  // no dropout, no generator
}
