// The functional API: Input, layers called on symbolic tensors, merge layers, shared layers,
// several inputs and outputs, nested models; shapes, names and parameter counts at graph-building
// time, errors there, values and gradients equal to the same layers called by hand.
#include <gtest/gtest.h>

#include "../autograd/gradcheck_strength.h"
#include "../error_matchers.h"
#include "../json_data.h"
#include "../temp_dir.h"
#include "../test_data.h"
#include "keras_guide_models.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/conv.h"
#include "tapegrad/layers/dense.h"
#include "tapegrad/layers/dropout.h"
#include "tapegrad/layers/functional.h"
#include "tapegrad/layers/merge.h"
#include "tapegrad/layers/pooling.h"
#include "tapegrad/optim/adam.h"
#include "tapegrad/train/checkpoint.h"

namespace tg = tapegrad;
using gradcheck_strength::detects_10_percent_error;
using gradcheck_strength::passes;
using tg::Shape;
using tg::Tensor;
using tg::Variable;
using Vars = std::vector<Variable>;

using tg::testing::normal;

namespace {
std::vector<std::string> parameter_names(const tg::Layer& l) {
  std::vector<std::string> names;
  for (const auto& p : l.parameters()) names.push_back(p->name);
  return names;
}
}  // namespace

// The issue's (and README's) example: two convolutions of one input added, pooled, classified.
TEST(Functional, TinyResNetHasKerasShapesNamesAndParameterCounts) {
  auto in = tg::Input({8, 8, 3}, {.name = "image"});
  EXPECT_EQ(in.shape(), Shape({8, 8, 3}));
  auto x = tg::Conv2D(16, 3, {.padding = "same"})(in);
  EXPECT_EQ(x.shape(), Shape({8, 8, 16}));  // known as soon as the layer is called
  auto y = tg::Add()({x, tg::Conv2D(16, 1)(in)});
  auto out = tg::Dense(10)(tg::GlobalAveragePooling2D()(y));
  EXPECT_EQ(out.shape(), Shape({10}));
  tg::Model model({in}, {out}, "tiny_resnet");
  EXPECT_EQ(model.name(), "tiny_resnet");
  EXPECT_EQ(model.type(), "Functional");
  EXPECT_EQ(model.count_params(), (3 * 3 * 3 * 16 + 16) + (3 * 16 + 16) + (16 * 10 + 10));
  std::vector<std::string> layers;
  for (size_t i = 0; i < model.sublayers().size(); ++i) layers.push_back(model.sublayer_name(i));
  EXPECT_EQ(layers, (std::vector<std::string>{"image", "conv2d", "conv2d_1", "add", "global_average_pooling2d", "dense"}));
  EXPECT_EQ(parameter_names(model), (std::vector<std::string>{"conv2d/kernel", "conv2d/bias", "conv2d_1/kernel",
                                                              "conv2d_1/bias", "dense/kernel", "dense/bias"}));
  EXPECT_EQ(model.output_shape({8, 8, 3}), Shape({10}));

  // The model's output is the same layers called by hand, to the bit.
  const Tensor batch = normal({2, 8, 8, 3}, 1);
  const Variable got = model(Variable(batch));
  auto& a = *model.get_layer("conv2d");
  auto& b = *model.get_layer("conv2d_1");
  auto& pool = *model.get_layer("global_average_pooling2d");
  auto& dense = *model.get_layer("dense");
  const Variable want = dense(pool(tg::add(a(Variable(batch)), b(Variable(batch)))));
  EXPECT_EQ(got.shape(), Shape({2, 10}));
  EXPECT_EQ(got.value().to_vector(), want.value().to_vector());
}

// A siamese pair: one Dense called on two inputs is one layer with one set of weights, whose
// gradient is the sum over both calls.
TEST(Functional, SharedLayerHasOneSetOfWeightsAndSumsItsGradients) {
  auto tower = std::make_shared<tg::Dense>(4, tg::DenseOptions{.activation = "tanh"});
  auto left = tg::Input({3}, {.name = "left"}), right = tg::Input({3}, {.name = "right"});
  auto diff = tg::Subtract()({(*tower)(left), (*tower)(right)});
  tg::Model model({left, right}, {diff}, "siamese");
  EXPECT_EQ(model.count_params(), 3 * 4 + 4);
  EXPECT_EQ(parameter_names(model), (std::vector<std::string>{"dense/kernel", "dense/bias"}));

  const Tensor x1 = normal({5, 3}, 2), x2 = normal({5, 3}, 3);
  tg::sum(model({Variable(x1), Variable(x2)})[0]).backward();
  const Tensor got = tower->parameters()[0]->var.grad();
  tower->parameters()[0]->var.zero_grad();
  tg::sum(tg::sub((*tower)(Variable(x1)), (*tower)(Variable(x2)))).backward();
  EXPECT_EQ(got.to_vector(), tower->parameters()[0]->var.grad().to_vector());
  EXPECT_GT(tg::sum(tg::abs(got)).item(), 0.0f);
}

// Gradcheck through a graph with every elementwise merge, a concatenation and a shared layer.
TEST(Functional, GradientsThroughMergesAndASharedLayerPassGradcheck) {
  auto shared = std::make_shared<tg::Dense>(3, tg::DenseOptions{.activation = "tanh"});
  auto a = tg::Input({2}), b = tg::Input({2});
  auto sa = (*shared)(a), sb = (*shared)(b);
  auto merged = tg::Concatenate()({tg::Add()({sa, sb}), tg::Multiply()({sa, sb}), tg::Average()({sa, sb, sa}),
                                   tg::Maximum()({sa, sb}), tg::Minimum()({sa, sb}), tg::Subtract()({sa, sb})});
  EXPECT_EQ(merged.shape(), Shape({18}));
  auto model = std::make_shared<tg::Model>(std::vector{a, b}, std::vector{tg::Dense(1)(merged)});
  const auto f = [model](const Vars& v) { return (*model)(v)[0]; };
  const Tensor x1 = normal({4, 2}, 4), x2 = normal({4, 2}, 5);
  EXPECT_TRUE(passes(f, {x1, x2}));
  EXPECT_TRUE(detects_10_percent_error(f, {x1, x2}));
}

TEST(Functional, MaximumAndMinimumOpsPassGradcheckAndBroadcast) {
  // Values kept apart so that finite differences never cross a tie.
  const Tensor a = Tensor::from({2, 3}, {0.1f, 2.0f, -1.0f, 3.0f, -2.0f, 0.5f});
  const Tensor b = Tensor::from({1, 3}, {1.0f, 0.0f, -0.2f});
  for (bool max : {true, false}) {
    const auto f = [max](const Vars& v) { return max ? tg::maximum(v[0], v[1]) : tg::minimum(v[0], v[1]); };
    EXPECT_TRUE(passes(f, {a, b})) << max;
    EXPECT_TRUE(detects_10_percent_error(f, {a, b})) << max;
  }
  EXPECT_EQ(tg::maximum(Variable(a), Variable(b)).value().to_vector(),
            (std::vector<float>{1.0f, 2.0f, -0.2f, 3.0f, 0.0f, 0.5f}));
}

TEST(Functional, SeveralOutputsAndANestedModel) {
  auto in = tg::Input({6});
  auto h = tg::Dense(5, {.activation = "relu"})(in);
  auto inner = std::make_shared<tg::Model>(std::vector{in}, std::vector{tg::Dense(2)(h), tg::Dense(3)(h)}, "heads");
  // One input in a list: a braced {x} alone would pick the one-Variable call.
  const auto outs = (*inner)(std::vector<Variable>{Variable(normal({4, 6}, 6))});
  ASSERT_EQ(outs.size(), 2u);
  EXPECT_EQ(outs[0].shape(), Shape({4, 2}));
  EXPECT_EQ(outs[1].shape(), Shape({4, 3}));
  EXPECT_ERROR(inner->output_shape({6}), {"heads", "2 outputs"});

  // A one-output model inside another, as a layer: its weights are listed under its name.
  auto in2 = tg::Input({4});
  auto body = std::make_shared<tg::Model>(std::vector{in2}, std::vector{tg::Dense(6)(in2)}, "body");
  auto outer_in = tg::Input({4});
  tg::Model outer({outer_in}, {tg::Dense(1)((*body)(outer_in))}, "outer");
  EXPECT_EQ(outer.count_params(), (4 * 6 + 6) + (6 + 1));
  EXPECT_EQ(parameter_names(outer), (std::vector<std::string>{"body/dense/kernel", "body/dense/bias", "dense/kernel", "dense/bias"}));
  EXPECT_EQ(outer(Variable(normal({3, 4}, 7))).shape(), Shape({3, 1}));
}

// Bad graphs fail while they are built, naming the layer and the shapes.
TEST(Functional, ErrorsAtGraphBuildingTime) {
  auto a = tg::Input({3}, {.name = "a"}), b = tg::Input({5}, {.name = "b"});
  auto da = tg::Dense(4)(a);
  EXPECT_ERROR(tg::Add()({da, b}), {"Add", "(None, 4)", "(None, 5)"});
  EXPECT_ERROR(tg::Add()({da, tg::Input({2, 4})}), {"Add", "one rank"});
  EXPECT_ERROR(tg::Subtract()({da, da, da}), {"Subtract", "exactly 2 inputs"});
  EXPECT_ERROR(tg::Concatenate()({tg::Input({2, 3}), tg::Input({4, 5})}), {"Concatenate", "(None, 2, 3)", "(None, 4, 5)"});
  EXPECT_ERROR(tg::Concatenate({.axis = 0})({a, a}), {"Concatenate", "axis 0"});
  EXPECT_ERROR(tg::Conv2D(2, 3)(a), {"Conv2D", "(None, 3)"});
  EXPECT_ERROR(tg::Add()(Variable(normal({2, 3}, 1))), {"Add", "list"});
  EXPECT_ERROR(tg::Model({a}, {tg::Add()({da, tg::Dense(4)(b)})}), {"Input 'b'", "not among the model's inputs"});
  EXPECT_ERROR(tg::Model({da}, {da}), {"must be tg::Input"});
  EXPECT_ERROR(tg::Model({a, a}, {da}), {"listed twice"});
  tg::Dense on_the_stack(2);
  EXPECT_ERROR(on_the_stack(a), {"Dense", "std::make_shared<Dense>"});
  // A subclass without TAPEGRAD_LAYER of its own is refused, not sliced into a Dense.
  struct Wider : tg::Dense {
    Wider() : tg::Dense(3) {}
  };
  EXPECT_ERROR(Wider()(a), {"TAPEGRAD_LAYER", "std::make_shared"});
  EXPECT_EQ((*std::make_shared<Wider>())(a).shape(), Shape({3}));
  tg::Model model({a}, {da});
  EXPECT_ERROR(model(Variable(normal({2, 5}, 1))), {"input 0", "(None, 3)", "(None, 5)"});
  EXPECT_ERROR(model({Variable(normal({2, 3}, 1)), Variable(normal({2, 3}, 1))}), {"takes 1 inputs, got 2"});
}

// A two-branch model learns a target that needs both branches (Adam, raw loop).
TEST(Functional, TwoInputModelLearns) {
  auto a = tg::Input({4}), b = tg::Input({4});
  auto h = tg::Concatenate()({tg::Dense(8, {.activation = "tanh"})(a), tg::Dense(8, {.activation = "tanh"})(b)});
  tg::Model model({a, b}, {tg::Dense(1)(h)});
  const Tensor xa = normal({64, 4}, 8), xb = normal({64, 4}, 9);
  Tensor target = Tensor::zeros({64, 1});
  for (int64_t i = 0; i < 64; ++i) target.data()[i] = xa.data()[i * 4] - 0.5f * xb.data()[i * 4 + 1];
  tg::Adam opt(model.parameters(), {.learning_rate = 0.02f});
  auto loss = [&] {
    const Variable d = tg::sub(model({Variable(xa), Variable(xb)})[0], Variable(target));
    return tg::mean(tg::mul(d, d));
  };
  const float first = loss().value().item();
  for (int step = 0; step < 200; ++step) {
    opt.zero_grad();
    loss().backward();
    opt.step();
  }
  EXPECT_LT(loss().value().item(), 0.05f * first);
}

// summary() character for character against Keras 2.15's print_summary (tests/data/gen_summaries.py):
// the functional API guide's toy ResNet (the graph table), its MNIST chain (the Sequential table)
// and a siamese pair (a shared layer's two calls, dense[0][0] and dense[1][0]).
TEST(Functional, SummaryIsKerasTableForTheGuidesModels) {
  const auto expected = tg::testing::load_json("summaries.json");
  EXPECT_EQ(keras_guide::toy_resnet()->summary_string(), expected.at("toy_resnet").get<std::string>());

  auto digits = tg::Input({784});
  auto h = tg::Dense(64, {.activation = "relu"})(digits);
  h = tg::Dense(64, {.activation = "relu"})(h);
  tg::Model mnist({digits}, {tg::Dense(10)(h)}, "mnist_model");
  EXPECT_EQ(mnist.summary_string(), expected.at("mnist_model").get<std::string>());

  auto tower = std::make_shared<tg::Dense>(4);
  auto left = tg::Input({3}, {.name = "left"}), right = tg::Input({3}, {.name = "right"});
  tg::Model siamese({left, right}, {tg::Subtract()({(*tower)(left), (*tower)(right)})}, "siamese");
  EXPECT_EQ(siamese.summary_string(), expected.at("siamese").get<std::string>());
}

// to_dot(): Keras' plot_model graph (record nodes "name|Class", one edge per connection).
TEST(Functional, ToDotDrawsEveryLayerAndConnection) {
  auto in = tg::Input({8, 8, 3}, {.name = "image"});
  auto x = tg::Conv2D(16, 3, {.padding = "same"})(in);
  auto y = tg::Add()({x, tg::Conv2D(16, 1)(in)});
  tg::Model model({in}, {tg::Dense(10)(tg::GlobalAveragePooling2D()(y))}, "tiny_resnet");
  EXPECT_EQ(model.to_dot(),
            "digraph \"tiny_resnet\" {\n"
            "  graph [rankdir=TB];\n"
            "  node [shape=record];\n"
            "  \"image\" [label=\"image|InputLayer\"];\n"
            "  \"conv2d\" [label=\"conv2d|Conv2D\"];\n"
            "  \"conv2d_1\" [label=\"conv2d_1|Conv2D\"];\n"
            "  \"add\" [label=\"add|Add\"];\n"
            "  \"global_average_pooling2d\" [label=\"global_average_pooling2d|GlobalAveragePooling2D\"];\n"
            "  \"dense\" [label=\"dense|Dense\"];\n"
            "  \"image\" -> \"conv2d\";\n"
            "  \"image\" -> \"conv2d_1\";\n"
            "  \"conv2d\" -> \"add\";\n"
            "  \"conv2d_1\" -> \"add\";\n"
            "  \"add\" -> \"global_average_pooling2d\";\n"
            "  \"global_average_pooling2d\" -> \"dense\";\n"
            "}\n");
  const std::string shapes = model.to_dot({.show_shapes = true, .rankdir = "LR"});
  EXPECT_NE(shapes.find("graph [rankdir=LR]"), std::string::npos) << shapes;
  EXPECT_NE(shapes.find("\"add\" [label=\"{add|Add}|{input:|output:}|{{[(None, 8, 8, 16), (None, 8, 8, 16)]}|{(None, 8, 8, 16)}}\"]"),
            std::string::npos)
      << shapes;
  EXPECT_NE(shapes.find("{{[(None, 8, 8, 3)]}|{[(None, 8, 8, 3)]}}"), std::string::npos) << shapes;
  EXPECT_ERROR(model.to_dot({.rankdir = "up"}), {"to_dot", "rankdir"});
}

// Dot: batchwise dot products (keras.backend.batch_dot), against loops; cosine with normalize.
TEST(Functional, DotMatchesLoopsAndPassesGradcheck) {
  const Tensor a = normal({3, 4}, 11), b = normal({3, 4}, 12);
  const Variable d = tg::Dot({.axes = {1}})({Variable(a), Variable(b)});
  ASSERT_EQ(d.shape(), Shape({3, 1}));
  const Variable cos = tg::Dot({.axes = {1}, .normalize = true})({Variable(a), Variable(b)});
  for (int64_t i = 0; i < 3; ++i) {
    double dot = 0, na = 0, nb = 0;
    for (int64_t k = 0; k < 4; ++k) {
      dot += a.at({i, k}) * b.at({i, k});
      na += a.at({i, k}) * a.at({i, k});
      nb += b.at({i, k}) * b.at({i, k});
    }
    EXPECT_NEAR(d.value().at({i, 0}), dot, 1e-5);
    EXPECT_NEAR(cos.value().at({i, 0}), dot / std::sqrt(na * nb), 1e-5);
  }
  // (batch, 2, 4) . (batch, 5, 4) over the last axes -> (batch, 2, 5); over axis 1 of (batch, 4, 2)
  // and (batch, 4, 5) -> (batch, 2, 5) as well.
  const Tensor x = normal({3, 2, 4}, 13), y = normal({3, 5, 4}, 14);
  const Variable last = tg::Dot({.axes = {2, 2}})({Variable(x), Variable(y)});
  ASSERT_EQ(last.shape(), Shape({3, 2, 5}));
  const Tensor xt = tg::permute(x, {0, 2, 1}), yt = tg::permute(y, {0, 2, 1});
  const Variable first = tg::Dot({.axes = {1, 1}})({Variable(xt), Variable(yt)});
  ASSERT_EQ(first.shape(), Shape({3, 2, 5}));
  for (int64_t n = 0; n < 3; ++n)
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 5; ++j) {
        double want = 0;
        for (int64_t k = 0; k < 4; ++k) want += x.at({n, i, k}) * y.at({n, j, k});
        EXPECT_NEAR(last.value().at({n, i, j}), want, 1e-5);
        EXPECT_NEAR(first.value().at({n, i, j}), want, 1e-5);
      }
  for (bool normalize : {false, true}) {
    const auto f = [normalize](const Vars& v) { return tg::Dot({.axes = {2, 1}, .normalize = normalize})(v); };
    EXPECT_TRUE(passes(f, {x, normal({3, 4, 5}, 15)})) << normalize;
    EXPECT_TRUE(detects_10_percent_error(f, {x, normal({3, 4, 5}, 15)})) << normalize;
  }
  auto p = tg::Input({4}), q = tg::Input({6});
  EXPECT_ERROR(tg::Dot({.axes = {1}})({p, q}), {"Dot", "axis values 4 != 6", "(None, 4)", "(None, 6)"});
  EXPECT_ERROR(tg::Dot({.axes = {1}})({p, p, p}), {"Dot", "exactly 2 inputs"});
  EXPECT_ERROR(tg::Dot({.axes = {0}})({p, p}), {"Dot", "non-batch axes"});
  EXPECT_ERROR(tg::Dot({.axes = {1, 1, 1}}), {"Dot", "one axis or two"});
  EXPECT_EQ(tg::Dot({.axes = {1}})({p, p}).shape(), Shape({1}));
}

// A graph model checkpoints as any layer: a second model built by the same code has the same
// names, loads the weights strictly and computes the same outputs; Adam's state resumes too.
TEST(Functional, CheckpointsLoadIntoAModelBuiltTheSameWay) {
  auto build = [] {
    auto a = tg::Input({4}), b = tg::Input({4});
    auto shared = std::make_shared<tg::Dense>(3, tg::DenseOptions{.activation = "tanh"});
    auto h = tg::Concatenate()({(*shared)(a), (*shared)(b), tg::Dense(2)(a)});
    return std::make_shared<tg::Model>(std::vector{a, b}, std::vector{tg::Dense(1)(h)}, "pair");
  };
  auto first = build(), second = build();
  const Tensor xa = normal({5, 4}, 21), xb = normal({5, 4}, 22);
  tg::Adam opt(first->parameters());
  for (int i = 0; i < 3; ++i) {
    opt.zero_grad();
    tg::sum((*first)({Variable(xa), Variable(xb)})[0]).backward();
    opt.step();
  }
  const auto dir = tg::testing::temp_dir("functional_checkpoint");
  const std::string path = (dir / "pair.ckpt").string();
  tg::save_checkpoint(path, {.model = first.get(), .optimizer = &opt});
  tg::Adam opt2(second->parameters());
  tg::load_checkpoint(path, {.model = second.get(), .optimizer = &opt2});
  EXPECT_EQ((*first)({Variable(xa), Variable(xb)})[0].value().to_vector(),
            (*second)({Variable(xa), Variable(xb)})[0].value().to_vector());
  for (auto* o : {&opt, &opt2}) {  // one more step each: the same moments give the same weights
    o->zero_grad();
    tg::Model& m = o == &opt ? *first : *second;
    tg::sum(m({Variable(xa), Variable(xb)})[0]).backward();
    o->step();
  }
  EXPECT_EQ(first->get_weights().back().to_vector(), second->get_weights().back().to_vector());
  std::filesystem::remove_all(dir);
}
