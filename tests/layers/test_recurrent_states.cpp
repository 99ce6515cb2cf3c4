// Keras' states in and out of the recurrent layers: return_state (LSTM: output, h, c; GRU and
// SimpleRNN: output, h), initial states in Keras' list form (layer([x, h, c])), through eager
// calls (call_all) and graph models (a seq2seq encoder-decoder, whose summary and JSON name each
// output as Keras does), gradients into the initial states, and masks with initial states.
#include <gtest/gtest.h>

#include "../error_matchers.h"
#include "../temp_dir.h"
#include "../test_data.h"
#include "tapegrad/tapegrad.h"

namespace tg = tapegrad;
using tg::Shape;
using tg::Tensor;
using tg::Variable;

namespace {
void expect_equal(const Tensor& a, const Tensor& b, const std::string& what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  for (int64_t k = 0; k < a.numel(); ++k) ASSERT_EQ(a.data()[k], b.data()[k]) << what << " element " << k;
}
Tensor last_step(const Tensor& seq) {
  return tg::slice(seq, 1, seq.dim(1) - 1, seq.dim(1)).reshape({seq.dim(0), seq.dim(2)});
}
}  // namespace

// Keras' documented example: LSTM(4, return_sequences, return_state) on (32, 10, 8) gives
// (32, 10, 4), (32, 4), (32, 4); the final h is the last step's output.
TEST(RecurrentStates, ReturnStateGivesTheOutputAndTheFinalStates) {
  const Tensor x = tg::testing::normal({32, 10, 8}, 1);
  tg::LSTM lstm(4, {.return_sequences = true, .return_state = true});
  const auto out = lstm.call_all({Variable(x)});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].shape(), Shape({32, 10, 4}));
  EXPECT_EQ(out[1].shape(), Shape({32, 4}));
  EXPECT_EQ(out[2].shape(), Shape({32, 4}));
  expect_equal(out[1].value(), last_step(out[0].value()), "h");
  // The final c is the op's: the same LSTM's c sequence at its last step.
  const Tensor hc = tg::lstm_sequence(Variable(x), lstm.kernel()->var, lstm.recurrent_kernel()->var, lstm.bias()->var, {}, {}).value();
  expect_equal(out[2].value(), tg::slice(last_step(hc), 1, 4, 8), "c");
  for (auto* layer : std::initializer_list<tg::RecurrentLayer*>{new tg::GRU(3, {.return_state = true}),
                                                                new tg::SimpleRNN(3, {.return_state = true})}) {
    std::unique_ptr<tg::RecurrentLayer> owned(layer);
    const auto o = layer->call_all({Variable(x)});
    ASSERT_EQ(o.size(), 2u) << layer->type();
    expect_equal(o[0].value(), o[1].value(), layer->type() + " output and h");
  }
}

// layer([x, h, c]): the initial states, as the op takes them; their gradients flow back.
TEST(RecurrentStates, InitialStatesStartTheRecurrenceAndGetGradients) {
  const Tensor x = tg::testing::normal({3, 5, 2}, 2);
  Variable h0(tg::testing::normal({3, 4}, 3), true), c0(tg::testing::normal({3, 4}, 4), true);
  tg::LSTM lstm(4, {.return_sequences = true});
  const Variable y = lstm({Variable(x), h0, c0});
  const Variable ref = tg::lstm_sequence(Variable(x), lstm.kernel()->var, lstm.recurrent_kernel()->var, lstm.bias()->var, h0, c0);
  expect_equal(y.value(), tg::slice(ref.value(), 2, 0, 4), "y");
  tg::sum(y * y).backward();
  ASSERT_TRUE(h0.grad().defined());
  ASSERT_TRUE(c0.grad().defined());
  EXPECT_GT(tg::sum(tg::mul(h0.grad(), h0.grad())).item(), 0.0f);
  // Each layer takes its own number of states, of its units.
  EXPECT_ERROR(tg::LSTM(4)({Variable(x), h0}), {"LSTM 'lstm'", "2 initial states (h, c)", "got 1"});
  EXPECT_ERROR(tg::GRU(4)({Variable(x), h0, c0}), {"GRU 'gru'", "1 initial state (h)", "got 2"});
  EXPECT_ERROR(tg::GRU(5)({Variable(x), h0}), {"GRU 'gru'", "initial state 0 (None, 4)", "(None, 5)"});
}

// With a mask and initial states, a step before the first one read outputs zeros (Keras' output
// there is the previous output, which starts at zero) while the state stays the initial one.
TEST(RecurrentStates, MaskedStepsBeforeTheFirstReadOutputZerosAndKeepTheState) {
  Tensor x = tg::testing::normal({2, 4, 3}, 5);
  for (int64_t f = 0; f < 3; ++f) x.at({0, 0, f}) = 0.0f, x.at({0, 1, f}) = 0.0f;  // sample 0: two masked steps first
  for (int64_t t = 0; t < 4; ++t)
    for (int64_t f = 0; f < 3; ++f) x.at({1, t, f}) = 0.0f;  // sample 1: none read
  const Variable masked = tg::Masking()(Variable(x));
  const Variable h0(tg::testing::normal({2, 2}, 6));
  tg::GRU gru(2, {.return_sequences = true, .return_state = true});
  const auto out = gru.call_all({masked, h0});
  for (int64_t t = 0; t < 2; ++t)
    for (int64_t j = 0; j < 2; ++j) EXPECT_EQ(out[0].value().at({0, t, j}), 0.0f);
  EXPECT_NE(out[0].value().at({0, 2, 0}), 0.0f);
  for (int64_t j = 0; j < 2; ++j) {
    EXPECT_EQ(out[0].value().at({1, 3, j}), 0.0f);
    EXPECT_EQ(out[1].value().at({1, j}), h0.value().at({1, j}));  // the state never changed
  }
}

// Keras' seq2seq: the encoder's final states start the decoder, in a graph model.
TEST(RecurrentStates, EncoderDecoderGraphSummaryJsonAndTraining) {
  auto encoder_in = tg::Input({6, 3}, {.name = "encoder_in"});
  auto decoder_in = tg::Input({5, 2}, {.name = "decoder_in"});
  const auto encoded = tg::LSTM(8, {.return_state = true, .name = "encoder"}).call_all({encoder_in});
  ASSERT_EQ(encoded.size(), 3u);
  EXPECT_EQ(encoded[1].index(), 1);
  auto decoded = tg::LSTM(8, {.return_sequences = true, .name = "decoder"})({decoder_in, encoded[1], encoded[2]});
  tg::Model model({encoder_in, decoder_in}, {tg::Dense(1, {.name = "head"})(decoded)}, "seq2seq");
  const std::string s = model.summary_string();
  EXPECT_NE(s.find("encoder (LSTM)              [(None, 8),                  384       ['encoder_in[0][0]']"), std::string::npos) << s;
  EXPECT_NE(s.find("'encoder[0][1]',"), std::string::npos) << s;
  EXPECT_NE(s.find("'encoder[0][2]']"), std::string::npos) << s;
  // Keras' inbound node names each state by its tensor index; the JSON reads back to itself.
  const std::string json = model.to_json();
  EXPECT_NE(json.find(R"([["decoder_in", 0, 0, {}], ["encoder", 0, 1, {}], ["encoder", 0, 2, {}]])"), std::string::npos) << json;
  const auto copy = tg::model_from_json(json);
  EXPECT_EQ(tg::to_json(*copy), json);
  // It trains: the gradient reaches the encoder through the states.
  const Tensor a = tg::testing::normal({16, 6, 3}, 7), b = tg::testing::normal({16, 5, 2}, 8);
  const Tensor target = tg::testing::normal({16, 5, 1}, 9);
  tg::Adam opt(model.trainable_parameters(), {.learning_rate = 0.01f});
  auto loss = [&] {
    const Variable d = model({Variable(a), Variable(b)})[0] - Variable(target);
    return tg::mean(d * d);
  };
  const float first = loss().item();
  for (int step = 0; step < 60; ++step) {
    opt.zero_grad();
    loss().backward();
    opt.step();
  }
  EXPECT_LT(loss().item(), 0.8f * first);
  std::shared_ptr<tg::Layer> encoder = model.get_layer("encoder");
  EXPECT_TRUE(std::dynamic_pointer_cast<tg::LSTM>(encoder)->kernel()->var.grad().defined());
  // The encoder's states taken one at a time as outputs of their own.
  EXPECT_ERROR(tg::LSTM(8, {.return_state = true})(encoder_in), {"LSTM 'lstm'", "3 outputs", "call_all"});
  EXPECT_ERROR(tg::Sequential({tg::LSTM(4, {.return_state = true})})(Variable(a)), {"LSTM 'lstm'", "return_state", "call_all"});
}

// stateful: a long sequence fed in pieces gives what it gives in one call; reset_states()
// forgets; the batch is fixed by the first call.
TEST(RecurrentStates, StatefulRunInPiecesIsOneLongRun) {
  const Tensor x = tg::testing::normal({3, 9, 2}, 11);
  std::vector<std::pair<std::shared_ptr<tg::RecurrentLayer>, std::shared_ptr<tg::RecurrentLayer>>> pairs = {
      {std::make_shared<tg::LSTM>(4, tg::LSTMOptions{.return_sequences = true, .stateful = true}),
       std::make_shared<tg::LSTM>(4, tg::LSTMOptions{.return_sequences = true})},
      {std::make_shared<tg::GRU>(4, tg::GRUOptions{.return_sequences = true, .stateful = true}),
       std::make_shared<tg::GRU>(4, tg::GRUOptions{.return_sequences = true})},
      {std::make_shared<tg::SimpleRNN>(4, tg::SimpleRNNOptions{.recurrent_dropout = 0.3f, .return_sequences = true, .stateful = true}),
       std::make_shared<tg::SimpleRNN>(4, tg::SimpleRNNOptions{.return_sequences = true})},
  };
  for (auto& [stateful, whole] : pairs) {
    SCOPED_TRACE(stateful->type());
    stateful->build({9, 2});
    whole->build({9, 2});
    whole->set_weights(stateful->get_weights());
    const Tensor all = (*whole)(Variable(x)).value();
    std::vector<Variable> pieces;
    for (int64_t t0 : {0, 4, 7}) {
      const int64_t t1 = t0 == 0 ? 4 : t0 == 4 ? 7 : 9;
      pieces.push_back((*stateful)(Variable(tg::slice(x, 1, t0, t1))));  // inference: no dropout
    }
    const Tensor joined = tg::concat(pieces, 1).value();
    for (int64_t k = 0; k < all.numel(); ++k) ASSERT_NEAR(joined.data()[k], all.data()[k], 1e-6f) << k;
    ASSERT_EQ(stateful->states().size(), static_cast<size_t>(stateful->state_count()));
    // reset_states(): the next call starts from zeros again.
    stateful->reset_states();
    expect_equal((*stateful)(Variable(tg::slice(x, 1, 0, 4))).value(), tg::slice(all, 1, 0, 4), "after reset_states");
    EXPECT_ERROR((*stateful)(Variable(tg::slice(x, 0, 0, 2))), {stateful->type(), "stateful", "batch of 3", "batch of 2", "reset_states"});
  }
  // reset_states(values), and a layer that is not stateful.
  tg::GRU gru(2, {.stateful = true});
  gru.reset_states({Tensor::ones({5, 2})});
  EXPECT_EQ(gru.states()[0].shape(), Shape({5, 2}));
  EXPECT_ERROR(gru.reset_states({Tensor::ones({5, 3})}), {"GRU 'gru'", "(5, 3)", "(batch, 2)"});
  EXPECT_ERROR(tg::GRU(2).reset_states({Tensor::ones({5, 2})}), {"GRU 'gru'", "stateful = true"});
  // A model's reset_states() reaches its layers.
  tg::Sequential model({tg::LSTM(3, {.stateful = true}), tg::Dense(1)});
  model(Variable(x));
  EXPECT_TRUE(std::dynamic_pointer_cast<tg::LSTM>(model.layers()[0])->states()[0].defined());
  model.reset_states();
  EXPECT_TRUE(std::dynamic_pointer_cast<tg::LSTM>(model.layers()[0])->states().empty());
}

// A checkpoint of a stateful model holds its states: a run stopped and resumed gives the same
// bits as one that never stopped.
TEST(RecurrentStates, StatefulCheckpointResumesExactly) {
  const auto dir = tg::testing::temp_dir("stateful_resume");
  const std::string path = (dir / "ckpt").string();
  const Tensor target = tg::testing::normal({4, 3, 1}, 12);
  auto make = [] {
    tg::manual_seed(21);
    auto m = std::make_shared<tg::Sequential>(std::vector<tg::LayerRef>{
        tg::LSTM(5, {.dropout = 0.2f, .return_sequences = true, .stateful = true}), tg::Dense(1)});
    m->build({3, 2});
    return m;
  };
  // Step k trains on piece k of one long sequence per sample.
  auto train = [&](tg::Sequential& m, tg::Optimizer& opt, int from, int to) {
    for (int k = from; k < to; ++k) {
      opt.zero_grad();
      const Variable d = m(Variable(tg::testing::normal({4, 3, 2}, 100 + k)), true) - Variable(target);
      tg::mean(d * d).backward();
      opt.step();
    }
  };
  auto straight = make();
  tg::Adam opt_a(straight->trainable_parameters());
  train(*straight, opt_a, 0, 6);
  auto first = make();
  tg::Adam opt_b(first->trainable_parameters());
  train(*first, opt_b, 0, 3);
  tg::save_checkpoint(path, {first.get(), &opt_b});
  auto resumed = make();
  resumed->reset_states();
  tg::Adam opt_c(resumed->trainable_parameters());
  tg::load_checkpoint(path, {resumed.get(), &opt_c});
  const auto lstm = std::dynamic_pointer_cast<tg::LSTM>(resumed->layers()[0]);
  ASSERT_EQ(lstm->states().size(), 2u);
  EXPECT_EQ(lstm->states()[0].shape(), Shape({4, 5}));
  train(*resumed, opt_c, 3, 6);
  const auto a = straight->get_weights(), b = resumed->get_weights();
  for (size_t i = 0; i < a.size(); ++i) expect_equal(a[i], b[i], "weight " + std::to_string(i));
  expect_equal(std::dynamic_pointer_cast<tg::LSTM>(straight->layers()[0])->states()[1], lstm->states()[1], "c");
  // A file's state must fit the layer.
  auto other = std::make_shared<tg::Sequential>(std::vector<tg::LayerRef>{tg::LSTM(5, {.dropout = 0.2f, .return_sequences = true}), tg::Dense(1)});
  other->build({3, 2});
  tg::Adam opt_d(other->trainable_parameters());
  EXPECT_ERROR(tg::load_checkpoint(path, {other.get(), &opt_d}), {"load_checkpoint", "state 'lstm/state_0'", "does not have"});
  std::filesystem::remove_all(dir);
}

// A model class is built (and asked its output shape) by a dry run on a zero batch of one: a
// stateful layer inside keeps no state from it, so the first real call starts from zeros.
TEST(RecurrentStates, DryRunsLeaveTheCarriedStatesAlone) {
  struct Encoder : tg::Layer {
    Encoder() : tg::Layer("Encoder", "encoder") { lstm = register_layer("lstm", std::make_shared<tg::LSTM>(3, tg::LSTMOptions{.stateful = true})); }
    tg::Variable forward(const tg::Variable& x, bool training) override { return (*lstm)(x, training); }
    std::shared_ptr<tg::LSTM> lstm;
  };
  const Tensor x = tg::testing::normal({1, 4, 2}, 13);
  Encoder model;
  model.build({4, 2});  // a dry run
  EXPECT_FALSE(!model.lstm->states().empty() && model.lstm->states()[0].defined());
  const Tensor first = model(Variable(x)).value();
  const Tensor carried = model.lstm->states()[0].clone();
  model.output_shape({4, 2});  // another dry run, mid-sequence
  expect_equal(model.lstm->states()[0], carried, "state after a dry run");
  tg::LSTM fresh(3);
  fresh.build({4, 2});
  fresh.set_weights(model.lstm->get_weights());
  expect_equal(first, fresh(Variable(x)).value(), "first call from zeros");
}
