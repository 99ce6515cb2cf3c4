// Keras' cells and RNN(cell): RNN(LSTMCell(n)) computes what LSTM(n) computes with the same
// weights (with masks, go_backwards, initial states, return_state), and so for GRU and
// SimpleRNN; gradcheck of each cell's step; a direct call of a cell is one step; a cell of one's
// own (Keras' MinimalRNNCell example) runs in RNN and learns; what belongs to RNN is refused on
// a cell.
#include <gtest/gtest.h>

#include "../autograd/gradcheck_strength.h"
#include "../error_matchers.h"
#include "../test_data.h"
#include "tapegrad/tapegrad.h"

namespace tg = tapegrad;
using tg::Shape;
using tg::Tensor;
using tg::Variable;

namespace {

void expect_near(const Tensor& a, const Tensor& b, float tol, const std::string& what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  for (int64_t k = 0; k < a.numel(); ++k) ASSERT_NEAR(a.data()[k], b.data()[k], tol) << what << " element " << k;
}

// Keras' documentation example of a cell of one's own: output = h = x W + h_prev U.
class MinimalRNNCell : public tg::RecurrentCell {
 public:
  TAPEGRAD_LAYER(MinimalRNNCell)
  explicit MinimalRNNCell(int64_t units) : tg::RecurrentCell("MinimalRNNCell", ""), units_(units) {}
  std::vector<int64_t> state_size() const override { return {units_}; }
  int64_t output_size() const override { return units_; }
  std::vector<Variable> step(const Variable& x_t, const std::vector<Variable>& states, bool) override {
    const Variable h = tg::matmul(x_t, kernel_->var) + tg::matmul(states[0], recurrent_->var);
    return {h, h};
  }

 protected:
  void build_impl(const Shape& input_shape) override {
    kernel_ = add_weight("kernel", {input_shape[0], units_}, "glorot_uniform");
    recurrent_ = add_weight("recurrent_kernel", {units_, units_}, "orthogonal");
  }

 private:
  int64_t units_;
  tg::ParameterPtr kernel_, recurrent_;
};

}  // namespace

// RNN(cell) against the fused layer with the cell's weights: output, states and every gradient.
TEST(RecurrentCells, RnnOfACellComputesWhatItsLayerComputes) {
  Tensor x = tg::testing::normal({4, 6, 3}, 1);
  for (int64_t f = 0; f < 3; ++f) x.at({1, 4, f}) = x.at({1, 5, f}) = x.at({2, 0, f}) = 0.0f;  // padding for Masking
  struct Case {
    std::string name;
    std::shared_ptr<tg::RecurrentCell> cell;
    std::shared_ptr<tg::RecurrentLayer> layer;
    bool go_backwards;
  };
  std::vector<Case> cases{
      {"LSTM", std::make_shared<tg::LSTMCell>(5), std::make_shared<tg::LSTM>(5, tg::LSTMOptions{.return_sequences = true, .return_state = true}), false},
      {"LSTM go_backwards", std::make_shared<tg::LSTMCell>(5, tg::LSTMOptions{.recurrent_activation = "hard_sigmoid"}),
       std::make_shared<tg::LSTM>(5, tg::LSTMOptions{.recurrent_activation = "hard_sigmoid", .return_sequences = true,
                                                     .return_state = true, .go_backwards = true}), true},
      {"GRU", std::make_shared<tg::GRUCell>(4), std::make_shared<tg::GRU>(4, tg::GRUOptions{.return_sequences = true, .return_state = true}), false},
      {"GRU reset_before", std::make_shared<tg::GRUCell>(4, tg::GRUOptions{.reset_after = false}),
       std::make_shared<tg::GRU>(4, tg::GRUOptions{.return_sequences = true, .return_state = true, .reset_after = false}), false},
      {"SimpleRNN", std::make_shared<tg::SimpleRNNCell>(3),
       std::make_shared<tg::SimpleRNN>(3, tg::SimpleRNNOptions{.return_sequences = true, .return_state = true, .go_backwards = true}), true},
  };
  for (auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto rnn = std::make_shared<tg::RNN>(c.cell, tg::RNNOptions{.return_sequences = true, .return_state = true, .go_backwards = c.go_backwards});
    rnn->build({6, 3});
    c.layer->build({6, 3});
    c.layer->set_weights(rnn->get_weights());
    const Variable masked_a = tg::Masking()(Variable(x, true)), masked_b = tg::Masking()(Variable(x, true));
    std::vector<Variable> initial;
    for (int64_t w : c.cell->state_size()) initial.emplace_back(tg::testing::normal({4, w}, 7 + w), true);
    std::vector<Variable> args_a{masked_a}, args_b{masked_b};
    for (const auto& s : initial) args_a.push_back(s), args_b.push_back(Variable(s.value(), true));
    const auto a = rnn->call_all(args_a), b = c.layer->call_all(args_b);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) expect_near(a[i].value(), b[i].value(), 2e-6f, "output " + std::to_string(i));
    EXPECT_TRUE(a[0].mask().defined());
    Variable la = tg::sum(a[0] * a[0]), lb = tg::sum(b[0] * b[0]);
    for (size_t i = 1; i < a.size(); ++i) la = la + tg::sum(a[i]), lb = lb + tg::sum(b[i]);
    la.backward();
    lb.backward();
    const auto pa = rnn->parameters(), pb = c.layer->parameters();
    for (size_t i = 0; i < pa.size(); ++i) expect_near(pa[i]->var.grad(), pb[i]->var.grad(), 1e-5f, pa[i]->name);
    for (size_t i = 0; i < initial.size(); ++i) expect_near(initial[i].grad(), args_b[i + 1].grad(), 1e-5f, "initial state");
  }
  EXPECT_EQ(tg::RNN(std::make_shared<tg::LSTMCell>(5)).output_shape({6, 3}), Shape({5}));
}

TEST(RecurrentCells, GradcheckOfEachCellsStep) {
  using gradcheck_strength::detects_10_percent_error;
  using gradcheck_strength::passes;
  const std::vector<std::shared_ptr<tg::KerasCell>> cells{std::make_shared<tg::LSTMCell>(3), std::make_shared<tg::GRUCell>(3),
                                                          std::make_shared<tg::GRUCell>(3, tg::GRUOptions{.reset_after = false}),
                                                          std::make_shared<tg::SimpleRNNCell>(3)};
  for (const auto& cell : cells) {
    SCOPED_TRACE(cell->type());
    cell->build({2});
    const size_t states = cell->state_size().size();
    // Inputs: x_t, the states, then the weights (copied into the cell for each evaluation).
    std::vector<Tensor> in{tg::testing::normal({3, 2}, 1)};
    for (size_t i = 0; i < states; ++i) in.push_back(tg::mul(tg::testing::normal({3, 3}, 2 + i), 0.5f));
    const auto params = cell->parameters();
    for (const auto& p : params) in.push_back(tg::mul(tg::testing::normal(p->var.shape(), 9), 0.5f));
    const auto f = [&](const std::vector<Variable>& v) {
      for (size_t i = 0; i < params.size(); ++i) params[i]->var = v[1 + states + i];
      const std::vector<Variable> s(v.begin() + 1, v.begin() + 1 + static_cast<long>(states));
      Variable total = Variable(Tensor::scalar(0.0f));
      for (const Variable& y : cell->step(v[0], s, false)) total = total + tg::sum(y * y);
      return total;
    };
    EXPECT_TRUE(passes(f, in));
    EXPECT_TRUE(detects_10_percent_error(f, in));
  }
}

// Keras: `output, states = cell(x_t, states)`; the counts and layouts of the layers.
TEST(RecurrentCells, ADirectCallIsOneStep) {
  tg::LSTMCell cell(4);
  const Variable x(tg::testing::normal({2, 3}, 3));
  const auto out = cell.call_all({x});
  ASSERT_EQ(out.size(), 3u);  // output, h, c
  EXPECT_EQ(out[0].shape(), Shape({2, 4}));
  EXPECT_EQ(cell.count_params(), 4 * (3 * 4 + 4 * 4 + 4));
  EXPECT_EQ(cell.bias()->var.value().at({4}), 1.0f);  // unit_forget_bias
  const auto next = cell.call_all({x, out[1], out[2]});
  EXPECT_NE(next[0].value().to_vector(), out[0].value().to_vector());
  EXPECT_ERROR(cell.call_all({x, out[1]}), {"LSTMCell 'lstm_cell'", "2 states", "got 1"});
  tg::Sequential model({tg::RNN(std::make_shared<tg::GRUCell>(4)), tg::Dense(1)});
  model.build({5, 3});
  EXPECT_EQ(model.get_named_weights().count("rnn/gru_cell/recurrent_kernel"), 1u);
  EXPECT_EQ(model.count_params(), 3 * (3 * 4 + 4 * 4 + 2 * 4) + 5);
}

TEST(RecurrentCells, ACellOfOnesOwnRunsAndLearns) {
  const int64_t n = 64, steps = 6;
  const Tensor x = tg::testing::normal({n, steps, 1}, 3);
  Tensor labels = Tensor::zeros({n, 1});
  for (int64_t i = 0; i < n; ++i) labels.data()[i] = x.data()[i * steps] > 0.0f ? 1.0f : 0.0f;
  tg::manual_seed(5);
  tg::Sequential model({tg::RNN(std::make_shared<MinimalRNNCell>(16)), tg::Dense(1)});
  model.build({steps, 1});
  tg::Adam opt(model.trainable_parameters(), {.learning_rate = 0.01f});
  tg::losses::BinaryCrossentropy bce({.from_logits = true});
  const float first = bce(labels, model(Variable(x), true)).item();
  for (int step = 0; step < 150; ++step) {
    opt.zero_grad();
    bce(labels, model(Variable(x), true)).backward();
    opt.step();
  }
  EXPECT_LT(bce(labels, model(Variable(x))).item(), 0.5f * first);
}

TEST(RecurrentCells, WhatBelongsToTheSequenceIsRefusedOnACell) {
  EXPECT_ERROR(tg::LSTMCell(4, {.return_sequences = true}), {"LSTMCell 'lstm_cell'", "return_sequences", "RNN layer"});
  EXPECT_ERROR(tg::GRUCell(4, {.stateful = true}), {"GRUCell 'gru_cell'", "stateful"});
  EXPECT_ERROR(tg::SimpleRNNCell(0), {"SimpleRNNCell", "units must be positive"});
  EXPECT_ERROR(tg::LSTMCell(4, {.activity_regularizer = tg::L2(0.1f)}), {"LSTMCell", "activity_regularizer", "RNN layer"});
  EXPECT_ERROR(tg::RNN(std::make_shared<tg::LSTMCell>(4))(Variable(Tensor::zeros({2, 3}))), {"RNN 'rnn'", "(batch, steps, features)"});
  EXPECT_ERROR(tg::RNN(std::make_shared<tg::LSTMCell>(4), {.return_state = true})(Variable(Tensor::zeros({2, 3, 1}))),
               {"RNN 'rnn'", "return_state", "call_all"});
}

// TimeDistributed over a recurrent layer's sequence: the inner layer on every step, the mask kept.
TEST(RecurrentCells, TimeDistributedOverARecurrentSequence) {
  Tensor x = tg::testing::normal({2, 5, 3}, 4);
  for (int64_t f = 0; f < 3; ++f) x.at({1, 4, f}) = 0.0f;
  auto dense = std::make_shared<tg::Dense>(2);
  tg::Sequential model({tg::Masking(), tg::GRU(4, {.return_sequences = true}), tg::TimeDistributed(dense)});
  model.build({5, 3});
  const Variable y = model(Variable(x));
  EXPECT_EQ(y.shape(), Shape({2, 5, 2}));
  EXPECT_TRUE(y.mask().defined());
  const Tensor h = tg::Sequential({tg::Masking(), model.layers()[1]})(Variable(x)).value();
  for (int64_t t = 0; t < 5; ++t) {
    const Tensor step = (*dense)(Variable(tg::slice(h, 1, t, t + 1).reshape({2, 4}))).value();
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t j = 0; j < 2; ++j) EXPECT_NEAR(y.value().at({b, t, j}), step.at({b, j}), 1e-6f);
  }
}
