// Keras' masks through layers: Embedding(mask_zero) and Masking make them, Sequential and graph
// models carry them, the recurrent layers and GlobalAveragePooling1D read them, Dense, dropouts
// and activations pass them on, every other layer refuses one (naming itself) instead of
// reading the padding as data; and Bidirectional, which merges a recurrent layer run both ways.
#include <gtest/gtest.h>

#include <cmath>

#include "../error_matchers.h"
#include "../test_data.h"
#include "tapegrad/tapegrad.h"

namespace tg = tapegrad;
using tg::Shape;
using tg::Tensor;
using tg::Variable;

namespace {

// Token ids (batch 3, 6 steps): right-padded with 0 to lengths 6, 3 and 1.
Tensor padded_ids() {
  return Tensor::from({3, 6}, {4, 7, 1, 9, 2, 5, /**/ 3, 8, 6, 0, 0, 0, /**/ 5, 0, 0, 0, 0, 0});
}

// The same sample alone, without its padding.
Tensor unpadded(const Tensor& ids, int64_t b, int64_t length) {
  std::vector<float> v(ids.data() + b * ids.dim(1), ids.data() + b * ids.dim(1) + length);
  return Tensor::from({1, length}, v);
}

void expect_near(const Tensor& a, const float* b, int64_t n, float tol, const std::string& what) {
  for (int64_t k = 0; k < n; ++k) ASSERT_NEAR(a.data()[k], b[k], tol) << what << " element " << k;
}

}  // namespace

// Keras' use case: padded sequences give what each sequence gives alone, for every recurrent
// layer, go_backwards, and a Bidirectional, in a Sequential and in a graph model.
TEST(Masking, PaddedSequencesGiveWhatEachGivesAlone) {
  const Tensor ids = padded_ids();
  const int64_t lengths[] = {6, 3, 1};
  std::vector<std::pair<std::string, std::function<tg::LayerRef()>>> heads = {
      {"LSTM", [] { return tg::LSTM(5); }},
      {"LSTM go_backwards", [] { return tg::LSTM(5, {.go_backwards = true}); }},
      {"GRU", [] { return tg::GRU(5); }},
      {"GRU reset_before", [] { return tg::GRU(5, {.reset_after = false}); }},
      {"SimpleRNN", [] { return tg::SimpleRNN(5); }},
      {"Bidirectional LSTM", [] { return tg::Bidirectional(tg::LSTM(3)); }},
  };
  for (const auto& [name, head] : heads) {
    SCOPED_TRACE(name);
    tg::Sequential model({tg::Embedding(10, 4, {.mask_zero = true}), tg::Dense(4, {.activation = "tanh"}), head()});
    const Tensor y = model(Variable(ids)).value();
    for (int b = 0; b < 3; ++b) {
      const Tensor alone = model(Variable(unpadded(ids, b, lengths[b]))).value();
      expect_near(alone, y.data() + b * y.dim(1), y.dim(1), 1e-6f, "sample " + std::to_string(b));
    }
  }
  // A graph model: the mask goes along the graph's edges.
  auto embed = std::make_shared<tg::Embedding>(10, 4, tg::EmbeddingOptions{.mask_zero = true});
  auto gru = std::make_shared<tg::GRU>(3);
  auto in = tg::Input({6});
  tg::Model graph({in}, {(*gru)(tg::Dropout(0.5f)((*embed)(in)))});
  const Tensor y = graph(Variable(ids)).value();
  const Tensor alone = (*gru)((*embed)(Variable(unpadded(ids, 1, 3)))).value();  // the same layers, eagerly
  expect_near(alone, y.data() + 3, 3, 1e-6f, "graph, sample 1");
}

// With return_sequences the output keeps the mask; the masked steps repeat the last output.
TEST(Masking, SequencesKeepTheMaskAndCarryTheOutput) {
  tg::Embedding embed(10, 4, {.mask_zero = true});
  const Variable e = embed(Variable(padded_ids()));
  ASSERT_TRUE(e.mask().defined());
  EXPECT_EQ(e.mask().to_vector(), (std::vector<float>{1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0}));
  tg::LSTM seq(3, {.return_sequences = true});
  const Variable y = seq(e);
  EXPECT_EQ(y.mask().to_vector(), e.mask().to_vector());
  for (int64_t t = 3; t < 6; ++t)
    for (int64_t j = 0; j < 3; ++j) EXPECT_EQ(y.value().at({1, t, j}), y.value().at({1, 2, j}));
  tg::LSTM last(3);
  EXPECT_FALSE(last(e).mask().defined());
}

TEST(Masking, MaskingLayerZeroesAndMasksTheStepsOfItsValue) {
  const Tensor x = Tensor::from({2, 3, 2}, {1, 2, /**/ -1, -1, /**/ 0, 3, /**/ -1, -1, /**/ -1, -1, /**/ 4, -1});
  tg::Masking masking({.mask_value = -1.0f});
  const Variable y = masking(Variable(x));
  EXPECT_EQ(y.mask().shape(), Shape({2, 3}));
  EXPECT_EQ(y.mask().to_vector(), (std::vector<float>{1, 0, 1, 0, 0, 1}));
  EXPECT_EQ(y.value().to_vector(), (std::vector<float>{1, 2, 0, 0, 0, 3, 0, 0, 0, 0, 4, -1}));
  EXPECT_EQ(masking.output_shape({3, 2}), Shape({3, 2}));
  EXPECT_EQ(masking.count_params(), 0);
  EXPECT_ERROR(tg::Masking({.mask_value = std::nanf("")}), {"Masking 'masking'", "NaN"});
}

// Keras' masked average: the kept steps only.
TEST(Masking, GlobalAveragePooling1DAveragesTheKeptSteps) {
  const Tensor x = Tensor::from({2, 3, 2}, {1, 2, /**/ 0, 0, /**/ 3, 6, /**/ 5, 1, /**/ 0, 0, /**/ 0, 0});
  tg::Sequential model({tg::Masking(), tg::GlobalAveragePooling1D()});
  Variable xv(x, true);
  const Variable y = model(xv);
  EXPECT_EQ(y.value().to_vector(), (std::vector<float>{2, 4, 5, 1}));
  EXPECT_FALSE(y.mask().defined());
  tg::sum(y).backward();
  EXPECT_EQ(xv.grad().to_vector(), (std::vector<float>{0.5f, 0.5f, 0, 0, 0.5f, 0.5f, 1, 1, 0, 0, 0, 0}));
  tg::GlobalAveragePooling1D keep({.keepdims = true});
  EXPECT_EQ(keep(tg::Masking()(Variable(x))).value().shape(), Shape({2, 1, 2}));
}

// What would read the padding as data refuses the mask, naming itself; what passes it on does.
TEST(Masking, LayersThatCannotTakeAMaskSaySo) {
  const Variable ids(padded_ids());
  const std::vector<std::string> what{"cannot take the mask", "Embedding with mask_zero or a Masking layer", "mask_zero = false"};
  auto expect_refused = [&](tg::LayerRef layer, const std::string& label) {
    tg::Sequential model({tg::Embedding(10, 4, {.mask_zero = true}), layer});
    EXPECT_ERROR(model(ids), {what[0], what[1], what[2], label});
  };
  expect_refused(tg::Flatten(), "Flatten 'flatten'");
  expect_refused(tg::Conv1D(2, 3), "Conv1D 'conv1d'");
  expect_refused(tg::GlobalMaxPooling1D(), "GlobalMaxPooling1D");
  expect_refused(tg::BatchNormalization(), "BatchNormalization");  // Keras' would weigh its statistics by the mask
  expect_refused(tg::TimeDistributed(tg::Reshape({2, 2})), "TimeDistributed");
  // In a graph, a merge of masked inputs.
  auto in = tg::Input({6});
  auto e = tg::Embedding(10, 4, {.mask_zero = true})(in);
  tg::Model graph({in}, {tg::Add()({e, e})});
  EXPECT_ERROR(graph(ids), {"Add 'add'", "cannot take the mask"});
  // Passed on: Dense, the dropouts, activations, LayerNormalization, TimeDistributed(Dense).
  tg::Sequential passes({tg::Embedding(10, 4, {.mask_zero = true}), tg::Dense(3), tg::Dropout(0.2f), tg::ReLU(),
                         tg::LayerNormalization(), tg::TimeDistributed(tg::Dense(2)), tg::GaussianNoise(0.1f)});
  const Variable y = passes(ids, true);
  ASSERT_TRUE(y.mask().defined());
  EXPECT_EQ(y.mask().to_vector(), tg::Embedding(10, 4, {.mask_zero = true}).compute_mask(padded_ids()).to_vector());
  // A recurrent layer's input mask must be (batch, steps).
  Variable x(Tensor::zeros({2, 3, 4}));
  x.set_mask(Tensor::ones({2, 3, 4}));
  EXPECT_ERROR(tg::LSTM(2)(x), {"LSTM 'lstm'", "mask (2, 3, 4)", "(batch, steps)"});
  EXPECT_ERROR(x.set_mask(Tensor::ones({3})), {"set_mask", "(3,)", "leading extents", "(2, 3, 4)"});
}

// Keras' documented example: Bidirectional(LSTM(10, return_sequences)) on (5, 10), then
// Bidirectional(LSTM(10)), Dense(5): output shapes and parameter counts, the weights' names.
TEST(Bidirectional, KerasExampleShapesCountsAndNames) {
  tg::Sequential model({tg::Bidirectional(tg::LSTM(10, {.return_sequences = true})), tg::Bidirectional(tg::LSTM(10)),
                        tg::Dense(5)});
  model.build({5, 10});
  const std::string s = model.summary_string();
  EXPECT_NE(s.find("bidirectional (Bidirection  (None, 5, 20)             1680"), std::string::npos) << s;
  EXPECT_NE(s.find("bidirectional_1 (Bidirecti  (None, 20)                2480"), std::string::npos) << s;
  EXPECT_EQ(model.count_params(), 1680 + 2480 + 105);
  const auto names = model.get_named_weights();
  for (const char* n : {"bidirectional/forward_lstm/kernel", "bidirectional/forward_lstm/recurrent_kernel",
                        "bidirectional/backward_lstm/bias", "bidirectional_1/backward_lstm/kernel"})
    EXPECT_TRUE(names.count(n)) << n;
  EXPECT_EQ(names.at("bidirectional_1/forward_lstm/kernel").shape(), Shape({20, 40}));
  // Each merge mode's width.
  for (const auto& [mode, width] : std::vector<std::pair<std::string, int64_t>>{{"concat", 8}, {"sum", 4}, {"mul", 4}, {"ave", 4}})
    EXPECT_EQ(tg::Bidirectional(tg::GRU(4), {.merge_mode = mode}).output_shape({7, 3}), Shape({width})) << mode;
}

// The merge of the two directions, computed from the two layers run alone.
TEST(Bidirectional, MergesTheForwardAndTheReversedBackwardOutputs) {
  const Tensor x = tg::testing::normal({2, 4, 3}, 5);
  for (const std::string mode : {"concat", "sum", "mul", "ave"}) {
    SCOPED_TRACE(mode);
    tg::Bidirectional both(tg::SimpleRNN(2, {.return_sequences = true}), {.merge_mode = mode});
    const Tensor y = both(Variable(x)).value();
    const Tensor f = (*both.forward_layer())(Variable(x)).value();
    const Tensor b = (*both.backward_layer())(Variable(x)).value();
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t t = 0; t < 4; ++t)
        for (int64_t j = 0; j < 2; ++j) {
          const float fv = f.at({n, t, j}), bv = b.at({n, 3 - t, j});  // the backward layer's step 3 - t read step t
          if (mode == "concat") {
            EXPECT_EQ(y.at({n, t, j}), fv);
            EXPECT_EQ(y.at({n, t, 2 + j}), bv);
          } else {
            EXPECT_EQ(y.at({n, t, j}), mode == "sum" ? fv + bv : mode == "mul" ? fv * bv : (fv + bv) * 0.5f);
          }
        }
  }
  EXPECT_TRUE(tg::Bidirectional(tg::LSTM(2)).backward_layer()->go_backwards());
  EXPECT_FALSE(tg::Bidirectional(tg::LSTM(2)).forward_layer()->go_backwards());
}

TEST(Bidirectional, RefusesWhatItCannotWrap) {
  EXPECT_ERROR(tg::Bidirectional(tg::Dense(3)), {"Bidirectional 'bidirectional'", "recurrent layer", "Dense 'dense'"});
  EXPECT_ERROR(tg::Bidirectional(tg::LSTM(3), {.merge_mode = "max"}), {"Bidirectional", "merge_mode", "concat, sum, mul, ave, none", "max"});
  EXPECT_ERROR(tg::Bidirectional(tg::LSTM(3), {.merge_mode = "none"})(Variable(Tensor::zeros({2, 4, 3}))),
               {"Bidirectional", "returns 2 tensors", "call_all"});
  EXPECT_ERROR(tg::Bidirectional(tg::LSTM(3)).call_all({Variable(Tensor::zeros({2, 4, 3})), Variable(Tensor::zeros({2, 3}))}),
               {"Bidirectional", "4 initial states", "got 1"});
  auto built = std::make_shared<tg::LSTM>(3);
  built->build({4, 2});
  EXPECT_ERROR(tg::Bidirectional{built}, {"Bidirectional", "LSTM 'lstm'", "built", "unbuilt"});
}

// merge_mode none: the two directions apart; return_state: the forward layer's final states,
// then the backward one's; initial states: the forward layer's, then the backward one's.
TEST(Bidirectional, SeveralOutputsAndInitialStates) {
  const Tensor x = tg::testing::normal({2, 4, 3}, 6);
  tg::Bidirectional apart(tg::LSTM(2, {.return_sequences = true, .return_state = true}), {.merge_mode = "none"});
  std::vector<Variable> states;
  for (int i = 0; i < 4; ++i) states.emplace_back(tg::testing::normal({2, 2}, 10 + i));
  std::vector<Variable> args{Variable(x)};
  args.insert(args.end(), states.begin(), states.end());
  const auto out = apart.call_all(args);
  ASSERT_EQ(out.size(), 6u);  // forward output, backward output, h, c forward, h, c backward
  const auto f = apart.forward_layer()->call_all({Variable(x), states[0], states[1]});
  const auto b = apart.backward_layer()->call_all({Variable(x), states[2], states[3]});
  EXPECT_EQ(out[0].value().to_vector(), f[0].value().to_vector());
  EXPECT_EQ(out[1].value().to_vector(), tg::reverse(b[0], 1).value().to_vector());
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(out[2 + i].value().to_vector(), f[1 + i].value().to_vector());
    EXPECT_EQ(out[4 + i].value().to_vector(), b[1 + i].value().to_vector());
  }
  // In a graph model, each output is a tensor of its own.
  auto in = tg::Input({4, 3});
  const auto outs = tg::Bidirectional(tg::GRU(2, {.return_state = true})).call_all({in});
  ASSERT_EQ(outs.size(), 3u);
  EXPECT_EQ(outs[0].shape(), Shape({4}));
  EXPECT_EQ(outs[2].shape(), Shape({2}));
  tg::Model model({in}, {tg::Concatenate()({outs[1], outs[2]})});
  EXPECT_EQ(tg::to_json(*tg::model_from_json(model.to_json())), model.to_json());
}

// A Bidirectional GRU learns whether a sequence's first value is larger than its last (each
// direction reads one of them last). Judged by accuracy on the training batch.
TEST(Bidirectional, LearnsATaskOfBothEnds) {
  const int64_t n = 64, steps = 8;
  const Tensor x = tg::testing::normal({n, steps, 1}, 3);
  Tensor labels = Tensor::zeros({n, 1});
  for (int64_t b = 0; b < n; ++b) labels.data()[b] = x.at({b, 0, 0}) > x.at({b, steps - 1, 0}) ? 1.0f : 0.0f;
  tg::manual_seed(5);
  tg::Sequential model({tg::Bidirectional(tg::GRU(8)), tg::Dense(1)});
  model.build({steps, 1});
  tg::Adam opt(model.trainable_parameters(), {.learning_rate = 0.01f});
  tg::losses::BinaryCrossentropy bce({.from_logits = true});
  auto loss = [&] { return bce(labels, model(Variable(x), true)); };
  const float first = loss().value().item();
  for (int step = 0; step < 200; ++step) {
    opt.zero_grad();
    loss().backward();
    opt.step();
  }
  const Tensor logits = model(Variable(x)).value();
  int right = 0;
  for (int64_t b = 0; b < n; ++b) right += (logits.data()[b] > 0.0f) == (labels.data()[b] > 0.5f);
  EXPECT_GE(right, 60) << "of 64";
  EXPECT_LT(loss().value().item(), 0.5f * first);
}
