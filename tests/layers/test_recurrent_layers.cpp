// The recurrent layers (SimpleRNN, LSTM, GRU): Keras' documented shapes, parameter counts and
// weight layouts; outputs and every gradient against independent float64 implementations
// (PyTorch's nn.RNN / nn.LSTM / nn.GRU, and Keras' GRU without reset_after in float64 tensor
// ops: tests/data/recurrent.json, gen_recurrent.py); a memory task each learns; the options they
// refuse.
#include <gtest/gtest.h>

#include <cmath>

#include "../error_matchers.h"
#include "../json_data.h"
#include "../test_data.h"
#include "tapegrad/tapegrad.h"

namespace tg = tapegrad;
using tg::Shape;
using tg::Tensor;
using tg::Variable;

// keras.io's LSTM example: inputs (32, 10, 8); LSTM(4) -> (32, 4); return_sequences -> (32, 10, 4).
TEST(RecurrentLayers, LstmKerasShapesParametersAndWeightLayout) {
  tg::LSTM lstm(4);
  const Tensor x = tg::testing::normal({32, 10, 8}, 1);
  EXPECT_EQ(lstm(Variable(x)).value().shape(), Shape({32, 4}));
  EXPECT_EQ(lstm.count_params(), 4 * 4 * (8 + 4 + 1));  // Keras' summary: 208
  EXPECT_EQ(lstm.kernel()->var.value().shape(), Shape({8, 16}));
  EXPECT_EQ(lstm.recurrent_kernel()->var.value().shape(), Shape({4, 16}));
  EXPECT_EQ(lstm.bias()->var.value().shape(), Shape({16}));
  const auto names = lstm.get_named_weights();
  EXPECT_TRUE(names.count("kernel") && names.count("recurrent_kernel") && names.count("bias"));
  // unit_forget_bias: the forget gate's quarter starts at 1, the rest at bias_initializer's zeros.
  for (int64_t k = 0; k < 16; ++k) EXPECT_EQ(lstm.bias()->var.value().data()[k], k >= 4 && k < 8 ? 1.0f : 0.0f) << k;
  // The recurrent kernel is orthogonal (its rows: (4, 16) has orthonormal rows).
  const Tensor r = lstm.recurrent_kernel()->var.value();
  for (int a = 0; a < 4; ++a)
    for (int b = 0; b < 4; ++b) {
      double dot = 0;
      for (int k = 0; k < 16; ++k) dot += double(r.data()[a * 16 + k]) * r.data()[b * 16 + k];
      EXPECT_NEAR(dot, a == b ? 1.0 : 0.0, 1e-5);
    }

  tg::LSTM seq(4, {.return_sequences = true});
  EXPECT_EQ(seq(Variable(x)).value().shape(), Shape({32, 10, 4}));
  EXPECT_EQ(seq.output_shape({10, 8}), Shape({10, 4}));
  tg::Sequential model({tg::LSTM(4), tg::Dense(1)});
  model.build({10, 8});
  EXPECT_NE(model.summary_string().find("lstm (LSTM)                 (None, 4)                 208"), std::string::npos)
      << model.summary_string();
}

namespace {

std::shared_ptr<tg::RecurrentLayer> reference_layer(const nlohmann::json& c) {
  const std::string layer = c.at("layer").get<std::string>();
  const int64_t units = c.at("units").get<int64_t>();
  const bool sequences = c.at("return_sequences").get<bool>(), backwards = c.at("go_backwards").get<bool>();
  if (layer == "lstm") return std::make_shared<tg::LSTM>(units, tg::LSTMOptions{.return_sequences = sequences, .go_backwards = backwards});
  if (layer == "gru")
    return std::make_shared<tg::GRU>(units, tg::GRUOptions{.return_sequences = sequences, .go_backwards = backwards,
                                                           .reset_after = c.at("reset_after").get<bool>()});
  return std::make_shared<tg::SimpleRNN>(units, tg::SimpleRNNOptions{.return_sequences = sequences, .go_backwards = backwards});
}

}  // namespace

// Output and the gradients of sum(y * p) for the input and every weight, in float64 elsewhere:
// each layer alone, under a mask (made by Masking from the zeroed steps), and in a Bidirectional.
TEST(RecurrentLayers, MatchFloat64References) {
  const auto data = tg::testing::load_json("recurrent.json");
  for (const auto& c : data.at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const bool masked = !c.at("mask").is_null(), bidirectional = !c.at("merge_mode").is_null();
    std::shared_ptr<tg::RecurrentLayer> rnn = reference_layer(c);
    std::shared_ptr<tg::Bidirectional> both;
    tg::Sequential model;
    if (masked) model.add(tg::Masking());
    if (bidirectional) {
      both = std::make_shared<tg::Bidirectional>(rnn, tg::BidirectionalOptions{.merge_mode = c.at("merge_mode").get<std::string>()});
      model.add(both);
    } else {
      model.add(rnn);
    }
    const Tensor x = tg::testing::to_tensor(c.at("x"));
    model.build(Shape({x.dim(1), x.dim(2)}));
    // The weights, and where their gradients will be, by direction.
    std::vector<std::pair<const nlohmann::json*, std::shared_ptr<tg::RecurrentLayer>>> directions;
    if (bidirectional)
      directions = {{&c.at("forward"), both->forward_layer()}, {&c.at("backward"), both->backward_layer()}};
    else
      directions = {{&c, rnn}};
    for (const auto& [w, layer] : directions)
      EXPECT_TRUE(layer->set_weights({{"kernel", tg::testing::to_tensor(w->at("kernel"))},
                                      {"recurrent_kernel", tg::testing::to_tensor(w->at("recurrent_kernel"))},
                                      {"bias", tg::testing::to_tensor(w->at("bias"))}})
                      .empty());
    Variable xv(x, true);
    Variable y = model(xv);
    double worst = 0;
    auto compare = [&worst](const Tensor& got, const Tensor& want, const char* what, float tolerance) {
      ASSERT_EQ(got.shape(), want.shape()) << what;
      for (int64_t k = 0; k < got.numel(); ++k) {
        const double err = std::fabs(double(got.data()[k]) - want.data()[k]);
        worst = std::max(worst, err);
        ASSERT_LE(err, tolerance * (1.0 + std::fabs(want.data()[k]))) << what << " element " << k;
      }
    };
    compare(y.value(), tg::testing::to_tensor(c.at("y")), "y", 2e-6f);
    // The output keeps the mask when it has every step (Keras' compute_mask).
    EXPECT_EQ(y.mask().defined(), masked && c.at("return_sequences").get<bool>());
    tg::sum(y * Variable(tg::testing::to_tensor(c.at("projection")))).backward();
    compare(xv.grad(), tg::testing::to_tensor(c.at("dx")), "dx", 1e-5f);
    for (const auto& [w, layer] : directions) {
      compare(layer->kernel()->var.grad(), tg::testing::to_tensor(w->at("dkernel")), "dkernel", 1e-5f);
      compare(layer->recurrent_kernel()->var.grad(), tg::testing::to_tensor(w->at("drecurrent_kernel")), "drecurrent_kernel", 1e-5f);
      compare(layer->bias()->var.grad(), tg::testing::to_tensor(w->at("dbias")), "dbias", 1e-5f);
    }
    std::printf("%-48s max error %.2e\n", c.at("name").get<std::string>().c_str(), worst);
  }
}

// Keras' GRU and SimpleRNN on (32, 10, 8) with 4 units: parameter counts and weight layouts.
TEST(RecurrentLayers, GruAndSimpleRnnKerasShapes) {
  const Tensor x = tg::testing::normal({32, 10, 8}, 1);
  tg::GRU gru(4);
  EXPECT_EQ(gru(Variable(x)).value().shape(), Shape({32, 4}));
  EXPECT_EQ(gru.count_params(), 3 * (4 * (8 + 4) + 2 * 4));  // Keras: 168 (reset_after: two biases)
  EXPECT_EQ(gru.kernel()->var.value().shape(), Shape({8, 12}));
  EXPECT_EQ(gru.recurrent_kernel()->var.value().shape(), Shape({4, 12}));
  EXPECT_EQ(gru.bias()->var.value().shape(), Shape({2, 12}));
  tg::GRU gru_before(4, {.return_sequences = true, .reset_after = false});
  EXPECT_EQ(gru_before(Variable(x)).value().shape(), Shape({32, 10, 4}));
  EXPECT_EQ(gru_before.count_params(), 3 * (4 * (8 + 4) + 4));  // 156
  tg::SimpleRNN rnn(4);
  EXPECT_EQ(rnn(Variable(x)).value().shape(), Shape({32, 4}));
  EXPECT_EQ(rnn.count_params(), 4 * 8 + 4 * 4 + 4);  // 52
  EXPECT_EQ(rnn.recurrent_kernel()->var.value().shape(), Shape({4, 4}));
}

// Whether a sequence's first value was positive, carried over 8 steps of noise: the layer must
// remember it (a Dense on the last step alone cannot: it sees only noise). Judged by accuracy on
// the training batch, which a memorising layer gets right and chance gets half right.
TEST(RecurrentLayers, EachLearnsToRememberTheFirstStep) {
  const int64_t n = 64, steps = 8;
  Tensor x = tg::testing::normal({n, steps, 1}, 3);
  Tensor labels = Tensor::zeros({n});
  for (int64_t i = 0; i < n; ++i) labels.data()[i] = x.data()[i * steps] > 0.0f ? 1.0f : 0.0f;
  for (const char* kind : {"LSTM", "GRU", "SimpleRNN"}) {
    SCOPED_TRACE(kind);
    tg::manual_seed(5);
    tg::LayerRef cell = std::string(kind) == "LSTM" ? tg::LayerRef(tg::LSTM(16))
                        : std::string(kind) == "GRU" ? tg::LayerRef(tg::GRU(16))
                                                     : tg::LayerRef(tg::SimpleRNN(16));
    tg::Sequential model({cell, tg::Dense(1)});
    model.build({steps, 1});
    tg::Adam opt(model.trainable_parameters(), {.learning_rate = 0.01f});
    tg::losses::BinaryCrossentropy bce({.from_logits = true});
    auto loss = [&] { return bce(labels.reshape({n, 1}), model(Variable(x), true)); };
    const float first = loss().value().item();
    for (int step = 0; step < 400; ++step) {
      opt.zero_grad();
      loss().backward();
      opt.step();
    }
    const Tensor logits = model(Variable(x), false).value();
    int right = 0;
    for (int64_t i = 0; i < n; ++i) right += (logits.data()[i] > 0.0f) == (labels.data()[i] > 0.5f);
    EXPECT_GE(right, 60) << "of 64";
    EXPECT_LT(loss().value().item(), 0.5f * first);
  }
}

TEST(RecurrentLayers, RefuseBadOptionsAndInputs) {
  EXPECT_ERROR(tg::LSTM(0), {"LSTM 'lstm'", "units must be positive"});
  EXPECT_ERROR(tg::LSTM(4, {.dropout = 1.0f}), {"LSTM 'lstm'", "dropout must be in [0, 1)", "1.0"});
  EXPECT_ERROR(tg::SimpleRNN(4, {.recurrent_dropout = -0.1f}), {"SimpleRNN 'simple_rnn'", "recurrent_dropout must be in [0, 1)"});
  EXPECT_ERROR(tg::LSTM(4, {.return_state = true})(Variable(Tensor::zeros({2, 3, 8}))), {"LSTM 'lstm'", "return_state", "call_all"});
  EXPECT_ERROR(tg::LSTM(4, {.activation = "gelu"}), {"LSTM 'lstm'", "gelu", "tanh"});
  EXPECT_ERROR(tg::LSTM(4, {.activation = tg::Activation::relu({.max_value = 6.0f})}), {"LSTM 'lstm'", "by name"});
  tg::LSTM lstm(4);
  EXPECT_ERROR(lstm(Variable(Tensor::zeros({2, 8}))), {"LSTM 'lstm'", "(batch, steps, features)", "(None, 8)"});
  lstm(Variable(Tensor::zeros({2, 3, 8})));
  EXPECT_ERROR(lstm(Variable(Tensor::zeros({2, 3, 5}))), {"LSTM 'lstm'", "5 features", "built for 8"});
  EXPECT_ERROR(tg::SimpleRNN(3, {.activation = "softmax"}), {"SimpleRNN 'simple_rnn'", "softmax"});
}
