// Architecture as JSON (tapegrad/layers/model_json.h): Keras 2.15's model.to_json() format.
//  - every layer class, with options away from their defaults, survives a round trip: the same
//    JSON again, and with the weights copied by name, the same outputs;
//  - a JSON written the way Keras 2.15 writes it (tests/data/keras215_toy_resnet.json, see
//    tests/data/README) loads, has Keras' summary, writes back the same text, and trains;
//  - nested models and shared layers keep their wiring (Keras' node indices);
//  - what Keras' JSON cannot hold, and what tapegrad cannot read, are errors naming it.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "../error_matchers.h"
#include "../json_data.h"
#include "../test_data.h"
#include "keras_guide_models.h"
#include "layers/keras_json/layer_codecs.h"
#include "tapegrad/tapegrad.h"

namespace tg = tapegrad;
using tg::Shape;
using tg::SymbolicTensor;
using tg::Tensor;
using tg::Variable;

namespace {

struct Case {
  const char* what;
  Shape input;
  std::function<SymbolicTensor(SymbolicTensor)> graph;
  bool integer_input = false;  // token ids (Embedding)
};

std::string fixture_text(const std::string& name) {
  std::ifstream in(std::string(TAPEGRAD_TEST_DATA) + "/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The JSON again from the model read back, and the same outputs once the weights are copied.
void expect_round_trip(tg::Layer& model, const Shape& input, bool integer_input, const std::string& what) {
  SCOPED_TRACE(what);
  const std::string text = tg::to_json(model);
  std::shared_ptr<tg::Layer> copy = tg::model_from_json(text);
  EXPECT_EQ(tg::to_json(*copy), text);
  EXPECT_EQ(copy->count_params(), model.count_params());
  if (model.built()) {
    EXPECT_EQ(copy->summary_string(), model.summary_string());
  }
  EXPECT_EQ(copy->set_weights(model.get_named_weights()).size(), 0u);
  std::vector<int64_t> dims{2};
  for (int64_t d : input) dims.push_back(d);
  const Tensor x = integer_input ? tg::testing::make(Shape(dims), 5, 0.0f, 9.0f, true) : tg::testing::normal(Shape(dims), 5);
  const Tensor a = model(Variable(x), false).value(), b = (*copy)(Variable(x), false).value();
  ASSERT_EQ(a.shape(), b.shape());
  for (int64_t i = 0; i < a.numel(); ++i) ASSERT_EQ(a.data()[i], b.data()[i]) << "at " << i;
}

std::set<std::string> class_names_in(const std::string& text) {
  std::set<std::string> names;
  std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& j) {
    if (j.is_object()) {
      if (j.contains("class_name") && j.contains("config") && j.at("class_name").is_string() &&
          (!j.contains("module") || j.at("module").is_null() ||
           j.at("module").get<std::string>().find("keras.layers") == 0 || j.at("module") == "keras" ||
           j.at("module") == "keras.src.engine.functional"))
        names.insert(j.at("class_name").get<std::string>());
      for (const auto& [k, v] : j.items()) walk(v);
    } else if (j.is_array()) {
      for (const auto& v : j) walk(v);
    }
  };
  walk(nlohmann::json::parse(text));
  return names;
}

// Two branches of one input, for the merge layers.
std::pair<SymbolicTensor, SymbolicTensor> two(const SymbolicTensor& in) {
  return {tg::Dense(4)(in), tg::Dense(4, {.activation = "tanh"})(in)};
}

std::vector<Case> every_layer_class() {
  using namespace tg::initializers;
  return {
      {"Dense", {6}, [](auto in) {
         return tg::Dense(4, {.activation = "tanh", .kernel_initializer = HeNormal(3), .bias_initializer = Constant(0.25f),
                              .kernel_regularizer = tg::L2(1e-3f), .activity_regularizer = tg::L1(1e-4f),
                              .kernel_constraint = std::make_shared<tg::MaxNorm>(2.5f),
                              .bias_constraint = std::make_shared<tg::NonNeg>()})(in);
       }},
      {"Dense without bias", {6}, [](auto in) {
         return tg::Dense(3, {.use_bias = false, .kernel_initializer = RandomNormal(0.0f, 0.1f, 4),
                              .kernel_regularizer = std::make_shared<tg::L1L2>(0.01f, 0.02f),
                              .kernel_constraint = std::make_shared<tg::MinMaxNorm>(0.5f, 1.5f, 0.5f)})(in);
       }},
      {"Activation", {6}, [](auto in) { return tg::ActivationLayer("sigmoid")(in); }},
      {"Embedding", {5}, [](auto in) {
         return tg::Embedding(10, 3, {.embeddings_initializer = RandomUniform(-0.1f, 0.1f, 1),
                                      .embeddings_constraint = std::make_shared<tg::UnitNorm>(std::vector<int>{1})})(in);
       }, true},
      {"Dropout", {6}, [](auto in) { return tg::Dropout(0.25f, {.seed = 7})(in); }},
      {"Masking", {5, 3}, [](auto in) { return tg::Masking({.mask_value = 0.5f})(in); }},
      {"SpatialDropout1D", {5, 3}, [](auto in) { return tg::SpatialDropout1D(0.2f)(in); }},
      {"SpatialDropout2D channels_first", {3, 4, 4}, [](auto in) {
         return tg::SpatialDropout2D(0.2f, {.data_format = "channels_first", .seed = 3})(in);
       }},
      {"SpatialDropout3D", {2, 2, 2, 3}, [](auto in) { return tg::SpatialDropout3D(0.3f)(in); }},
      {"AlphaDropout", {6}, [](auto in) { return tg::AlphaDropout(0.1f)(in); }},
      {"GaussianDropout", {6}, [](auto in) { return tg::GaussianDropout(0.2f, {.seed = 2})(in); }},
      {"GaussianNoise", {6}, [](auto in) { return tg::GaussianNoise(0.3f)(in); }},
      {"TimeDistributed", {4, 5}, [](auto in) { return tg::TimeDistributed(tg::Dense(3, {.activation = "relu"}))(in); }},
      {"Conv1D causal, dilated", {8, 3}, [](auto in) {
         return tg::Conv1D(3, 2, {.padding = "causal", .dilation_rate = 2, .activation = "elu"})(in);
       }},
      {"Conv2D strided", {7, 7, 3}, [](auto in) {
         return tg::Conv2D(4, 3, {.strides = 2, .padding = "same", .activation = "relu",
                                  .kernel_initializer = GlorotNormal(1), .bias_regularizer = tg::L2(0.5f)})(in);
       }},
      {"Conv3D channels_first", {2, 4, 4, 4}, [](auto in) {
         return tg::Conv3D(2, {1, 2, 2}, {.data_format = "channels_first", .kernel_initializer = LecunUniform()})(in);
       }},
      {"Conv1DTranspose", {5, 2}, [](auto in) { return tg::Conv1DTranspose(3, 3, {.strides = 2, .output_padding = 1})(in); }},
      {"Conv2DTranspose", {4, 4, 2}, [](auto in) { return tg::Conv2DTranspose(2, 3, {.strides = 2, .padding = "same"})(in); }},
      {"Conv3DTranspose", {3, 3, 3, 2}, [](auto in) { return tg::Conv3DTranspose(2, 2)(in); }},
      {"DepthwiseConv1D", {6, 3}, [](auto in) { return tg::DepthwiseConv1D(3, {.depth_multiplier = 2})(in); }},
      {"DepthwiseConv2D", {6, 6, 3}, [](auto in) {
         return tg::DepthwiseConv2D(3, {.strides = 2, .padding = "same", .depthwise_initializer = HeUniform(5)})(in);
       }},
      {"SeparableConv1D", {6, 3}, [](auto in) { return tg::SeparableConv1D(4, 3)(in); }},
      {"SeparableConv2D", {6, 6, 3}, [](auto in) {
         return tg::SeparableConv2D(4, 3, {.depth_multiplier = 2, .pointwise_initializer = Orthogonal(1.5f, 2)})(in);
       }},
      {"LocallyConnected1D", {6, 2}, [](auto in) { return tg::LocallyConnected1D(2, 3)(in); }},
      {"LocallyConnected2D", {4, 4, 2}, [](auto in) { return tg::LocallyConnected2D(2, 2, {.strides = 2})(in); }},
      {"MaxPooling1D", {6, 2}, [](auto in) { return tg::MaxPooling1D(2, {.strides = 1})(in); }},
      {"MaxPooling2D", {6, 6, 2}, [](auto in) { return tg::MaxPooling2D(3, {.strides = 2, .padding = "same"})(in); }},
      {"MaxPooling3D", {4, 4, 4, 2}, [](auto in) { return tg::MaxPooling3D()(in); }},
      {"AveragePooling1D", {6, 2}, [](auto in) { return tg::AveragePooling1D(3)(in); }},
      {"AveragePooling2D", {6, 6, 2}, [](auto in) { return tg::AveragePooling2D({2, 3})(in); }},
      {"AveragePooling3D", {4, 4, 4, 2}, [](auto in) { return tg::AveragePooling3D(2, {.padding = "same"})(in); }},
      {"GlobalMaxPooling1D", {6, 2}, [](auto in) { return tg::GlobalMaxPooling1D({.keepdims = true})(in); }},
      {"GlobalMaxPooling2D", {4, 4, 2}, [](auto in) { return tg::GlobalMaxPooling2D()(in); }},
      {"GlobalMaxPooling3D", {3, 3, 3, 2}, [](auto in) { return tg::GlobalMaxPooling3D()(in); }},
      {"GlobalAveragePooling1D", {6, 2}, [](auto in) { return tg::GlobalAveragePooling1D()(in); }},
      {"GlobalAveragePooling2D", {2, 4, 4}, [](auto in) {
         return tg::GlobalAveragePooling2D({.data_format = "channels_first"})(in);
       }},
      {"GlobalAveragePooling3D", {3, 3, 3, 2}, [](auto in) { return tg::GlobalAveragePooling3D()(in); }},
      {"ZeroPadding1D", {5, 2}, [](auto in) { return tg::ZeroPadding1D({1, 2})(in); }},
      {"ZeroPadding2D", {4, 4, 2}, [](auto in) { return tg::ZeroPadding2D({{1, 2}, {0, 1}})(in); }},
      {"ZeroPadding3D", {2, 2, 2, 1}, [](auto in) { return tg::ZeroPadding3D(1)(in); }},
      {"Cropping1D", {6, 2}, [](auto in) { return tg::Cropping1D({2, 1})(in); }},
      {"Cropping2D", {6, 6, 2}, [](auto in) { return tg::Cropping2D({{1, 0}, {0, 2}})(in); }},
      {"Cropping3D", {4, 4, 4, 1}, [](auto in) { return tg::Cropping3D(1)(in); }},
      {"UpSampling1D", {3, 2}, [](auto in) { return tg::UpSampling1D(3)(in); }},
      {"UpSampling2D", {3, 3, 2}, [](auto in) { return tg::UpSampling2D({2, 3})(in); }},
      {"UpSampling3D", {2, 2, 2, 1}, [](auto in) { return tg::UpSampling3D(2)(in); }},
      {"Flatten", {3, 4, 2}, [](auto in) { return tg::Flatten()(in); }},
      {"Reshape", {3, 4, 2}, [](auto in) { return tg::Reshape({4, 6})(in); }},
      {"Permute", {3, 4}, [](auto in) { return tg::Permute({2, 1})(in); }},
      {"RepeatVector", {4}, [](auto in) { return tg::RepeatVector(3)(in); }},
      {"Add", {6}, [](auto in) { auto [a, b] = two(in); return tg::Add()({a, b}); }},
      {"Subtract", {6}, [](auto in) { auto [a, b] = two(in); return tg::Subtract()({a, b}); }},
      {"Multiply", {6}, [](auto in) { auto [a, b] = two(in); return tg::Multiply()({a, b}); }},
      {"Average", {6}, [](auto in) { auto [a, b] = two(in); return tg::Average()({a, b}); }},
      {"Maximum", {6}, [](auto in) { auto [a, b] = two(in); return tg::Maximum()({a, b}); }},
      {"Minimum", {6}, [](auto in) { auto [a, b] = two(in); return tg::Minimum()({a, b}); }},
      {"Concatenate", {6}, [](auto in) { auto [a, b] = two(in); return tg::Concatenate({.axis = 1})({a, b, in}); }},
      {"Dot", {6}, [](auto in) { auto [a, b] = two(in); return tg::Dot({.axes = {1, 1}, .normalize = true})({a, b}); }},
      {"BatchNormalization", {5, 3}, [](auto in) {
         return tg::BatchNormalization({.momentum = 0.9f, .epsilon = 1e-2f, .center = false,
                                        .gamma_regularizer = tg::L2(1e-4f)})(in);
       }},
      {"BatchNormalization channels_first", {3, 4, 4}, [](auto in) { return tg::BatchNormalization({.axis = 1})(in); }},
      {"LayerNormalization", {5, 3}, [](auto in) {
         return tg::LayerNormalization({.axis = {-2, -1}, .epsilon = 1e-5f, .scale = false})(in);
       }},
      {"ReLU", {6}, [](auto in) { return tg::ReLU({.max_value = 6.0f, .negative_slope = 0.1f, .threshold = 0.5f})(in); }},
      {"LeakyReLU", {6}, [](auto in) { return tg::LeakyReLU(0.1f)(in); }},
      {"PReLU", {4, 3}, [](auto in) {
         return tg::PReLU({.alpha_initializer = Constant(0.2f), .shared_axes = {1}})(in);
       }},
      {"ELU", {6}, [](auto in) { return tg::ELU(0.5f)(in); }},
      {"Softmax", {3, 4}, [](auto in) { return tg::Softmax(1)(in); }},
      {"LSTM", {5, 3}, [](auto in) {
         return tg::LSTM(4, {.recurrent_activation = "hard_sigmoid", .recurrent_initializer = Orthogonal(1.0f, 3),
                             .unit_forget_bias = false, .recurrent_regularizer = tg::L2(1e-3f), .dropout = 0.25f,
                             .recurrent_dropout = 0.125f, .return_sequences = true, .go_backwards = true})(in);
       }},
      {"GRU", {5, 3}, [](auto in) {
         return tg::GRU(4, {.activation = "relu", .use_bias = true, .dropout = 0.5f, .reset_after = false})(in);
       }},
      {"GRU reset_after", {5, 3}, [](auto in) {
         return tg::GRU(3, {.kernel_initializer = HeUniform(2), .bias_initializer = Constant(0.1f), .return_sequences = true})(in);
       }},
      {"SimpleRNN", {5, 3}, [](auto in) { return tg::SimpleRNN(4, {.use_bias = false, .go_backwards = true})(in); }},
      {"Bidirectional", {5, 3}, [](auto in) {
         return tg::Bidirectional(tg::LSTM(4, {.return_sequences = true, .name = "enc"}), {.merge_mode = "ave"})(in);
       }},
      {"Bidirectional concat", {5, 3}, [](auto in) { return tg::Bidirectional(tg::GRU(3, {.go_backwards = true}))(in); }},
      {"RNN", {5, 3}, [](auto in) {
         return tg::RNN(std::make_shared<tg::LSTMCell>(4, tg::LSTMOptions{.unit_forget_bias = false, .dropout = 0.25f}),
                        {.return_sequences = true, .go_backwards = true})(in);
       }},
      {"GRUCell", {5, 3}, [](auto in) {
         return tg::RNN(std::make_shared<tg::GRUCell>(3, tg::GRUOptions{.recurrent_dropout = 0.5f, .reset_after = false}))(in);
       }},
      {"SimpleRNNCell", {5, 3}, [](auto in) {
         return tg::RNN(std::make_shared<tg::SimpleRNNCell>(2, tg::SimpleRNNOptions{.activation = "relu"}))(in);
       }},
      {"Bidirectional none", {5, 3}, [](auto in) {
         return tg::Add()(tg::Bidirectional(tg::SimpleRNN(3), {.merge_mode = "none"}).call_all({in}));
       }},
  };
}

}  // namespace

TEST(ModelJson, EveryLayerClassRoundTripsWithItsOptions) {
  std::set<std::string> covered;
  for (const Case& c : every_layer_class()) {
    auto in = tg::Input(c.input);
    tg::Model model({in}, {c.graph(in)}, "case");
    expect_round_trip(model, c.input, c.integer_input, c.what);
    for (const auto& name : class_names_in(model.to_json())) covered.insert(name);
  }
  // Every class the registry knows is among the cases (a codec added without a case fails here).
  for (const std::string& name : tg::keras_json::supported_class_names())
    if (name != "Sequential") {
      EXPECT_TRUE(covered.count(name)) << name << " has no round-trip case";
    }
}

TEST(ModelJson, OptionsAreWrittenAsKerasWritesThem) {
  auto in = tg::Input({8, 8, 3}, {.name = "image"});
  auto x = tg::Conv2D(16, 3, {.strides = 2, .kernel_regularizer = tg::L2(0.01f)})(in);
  x = tg::BatchNormalization()(x);
  x = tg::LeakyReLU()(x);
  x = tg::MaxPooling1D(2)(tg::Reshape({9, 16})(x));
  tg::Model model({in}, {x}, "m");
  const nlohmann::ordered_json j = nlohmann::ordered_json::parse(model.to_json());
  const auto& layers = j.at("config").at("layers");
  EXPECT_EQ(j.at("class_name"), "Functional");
  EXPECT_EQ(j.at("keras_version"), "2.15.0");
  EXPECT_EQ(layers[0].at("config").dump(),
            R"({"batch_input_shape":[null,8,8,3],"dtype":"float32","sparse":false,"ragged":false,"name":"image"})");
  const auto& conv = layers[1].at("config");
  EXPECT_EQ(conv.at("kernel_size").dump(), "[3,3]");
  EXPECT_EQ(conv.at("strides").dump(), "[2,2]");
  EXPECT_EQ(conv.at("kernel_regularizer").dump(),
            R"({"module":"keras.regularizers","class_name":"L2","config":{"l2":0.009999999776482582},"registered_name":null})");
  EXPECT_EQ(layers[1].at("build_config").dump(), R"({"input_shape":[null,8,8,3]})");
  EXPECT_EQ(layers[2].at("config").at("axis").dump(), "[3]");  // a built Keras layer's axis
  EXPECT_EQ(layers[3].at("config").at("alpha").get<double>(), static_cast<double>(0.3f));
  // 1-D pooling writes strides first, as Keras' Pooling1D.get_config.
  std::vector<std::string> pool_keys;
  for (const auto& [k, v] : layers[5].at("config").items()) pool_keys.push_back(k);
  EXPECT_EQ(pool_keys, (std::vector<std::string>{"name", "trainable", "dtype", "strides", "pool_size", "padding", "data_format"}));
  EXPECT_EQ(layers[5].at("inbound_nodes").dump(), R"([[["reshape",0,0,{}]]])");
  EXPECT_EQ(j.at("config").at("output_layers").dump(), R"([["max_pooling1d",0,0]])");

  // A layer's dtype policy and a frozen layer come back as they were.
  auto in2 = tg::Input({4});
  auto dense = std::make_shared<tg::Dense>(3, tg::DenseOptions{.dtype = "mixed_bfloat16"});
  dense->set_trainable(false);
  tg::Model mixed({in2}, {(*dense)(in2)}, "mixed");
  const nlohmann::ordered_json jm = nlohmann::ordered_json::parse(mixed.to_json());
  EXPECT_EQ(jm.at("config").at("layers")[1].at("config").at("dtype").dump(),
            R"({"module":"keras.mixed_precision","class_name":"Policy","config":{"name":"mixed_bfloat16"},"registered_name":null})");
  auto back = tg::model_from_json(mixed.to_json());
  const auto& layer = back->get_layer("dense");
  EXPECT_EQ(layer->dtype_policy().name(), "mixed_bfloat16");
  EXPECT_FALSE(layer->trainable());
  EXPECT_EQ(back->trainable_parameters().size(), 0u);
}

// tests/data/keras215_toy_resnet.json is what Keras 2.15's to_json() gives for the functional
// API guide's toy ResNet (tests/data/gen_keras_json.py says how it was made).
TEST(ModelJson, KerasWrittenToyResNetLoadsWritesBackAndTrains) {
  const std::string keras_text = fixture_text("keras215_toy_resnet.json");
  ASSERT_FALSE(keras_text.empty());
  std::shared_ptr<tg::Layer> loaded = tg::model_from_json(keras_text);
  auto model = std::dynamic_pointer_cast<tg::Model>(loaded);
  ASSERT_TRUE(model);
  EXPECT_EQ(model->summary_string(), tg::testing::load_json("summaries.json").at("toy_resnet").get<std::string>());
  EXPECT_EQ(model->to_json(), keras_text);

  // The guide's code, written with tapegrad, gives the same text.
  EXPECT_EQ(keras_guide::toy_resnet()->to_json(), keras_text);

  // It trains: 16 images whose class (of 3) is the channel that is brighter are learned.
  tg::manual_seed(3);
  Tensor images = tg::testing::normal({16, 32, 32, 3}, 11);
  Tensor labels = Tensor::zeros({16});
  for (int64_t i = 0; i < 16; ++i) {
    labels.data()[i] = static_cast<float>(i % 3);
    for (int64_t p = 0; p < 32 * 32; ++p) images.data()[(i * 32 * 32 + p) * 3 + i % 3] += 1.0f;
  }
  tg::Adam opt(model->trainable_parameters(), {.learning_rate = 1e-3f});
  tg::losses::SparseCategoricalCrossentropy loss_fn({.from_logits = true});
  auto loss = [&](bool training) { return loss_fn(labels, (*model)(Variable(images), training)); };
  const float first = loss(false).value().item();
  for (int step = 0; step < 25; ++step) {
    opt.zero_grad();
    loss(true).backward();
    opt.step();
  }
  EXPECT_LT(loss(false).value().item(), 0.5f * first);
}

// A siamese pair: one tower (a nested model) called on two inputs, its weights once; and a
// nested Sequential. Keras counts a nested model's nodes from 1.
TEST(ModelJson, NestedModelsAndSharedLayersKeepTheirWiring) {
  auto tower_in = tg::Input({6});
  auto tower = std::make_shared<tg::Model>(std::vector<SymbolicTensor>{tower_in},
                                           std::vector<SymbolicTensor>{tg::Dense(4, {.activation = "relu"})(tower_in)}, "tower");
  auto head = std::make_shared<tg::Sequential>(std::initializer_list<tg::LayerRef>{tg::Dense(3), tg::ActivationLayer("tanh")},
                                               tg::LayerOptions{"head"});
  auto shared = std::make_shared<tg::Dense>(4, tg::DenseOptions{.name = "shared"});
  auto a = tg::Input({6}, {.name = "left"}), b = tg::Input({6}, {.name = "right"});
  auto ta = (*tower)(a), tb = (*tower)(b);
  auto merged = tg::Concatenate()({(*shared)(ta), (*shared)(tb)});
  tg::Model model({a, b}, {(*head)(merged)}, "siamese");
  const std::string text = model.to_json();
  const nlohmann::ordered_json j = nlohmann::ordered_json::parse(text);
  for (const auto& layer : j.at("config").at("layers")) {
    if (layer.at("name") == "tower") {
      EXPECT_EQ(layer.at("module"), "keras.src.engine.functional");
      EXPECT_EQ(layer.at("inbound_nodes").dump(), R"([[["left",0,0,{}]],[["right",0,0,{}]]])");
    }
    if (layer.at("name") == "shared") {
      EXPECT_EQ(layer.at("inbound_nodes").dump(), R"([[["tower",1,0,{}]],[["tower",2,0,{}]]])");
    }
    if (layer.at("name") == "head") {
      EXPECT_EQ(layer.at("module"), "keras");
      EXPECT_EQ(layer.at("config").at("layers")[0].at("class_name"), "InputLayer");
    }
  }
  EXPECT_EQ(j.at("config").at("output_layers").dump(), R"([["head",1,0]])");

  auto copy = std::dynamic_pointer_cast<tg::Model>(tg::model_from_json(text));
  ASSERT_TRUE(copy);
  EXPECT_EQ(copy->to_json(), text);
  EXPECT_EQ(copy->summary_string(), model.summary_string());
  EXPECT_EQ(copy->count_params(), model.count_params());
  EXPECT_EQ(copy->set_weights(model.get_named_weights()).size(), 0u);
  const Tensor xa = tg::testing::normal({3, 6}, 1), xb = tg::testing::normal({3, 6}, 2);
  const Tensor ya = model({Variable(xa), Variable(xb)})[0].value(), yb = (*copy)({Variable(xa), Variable(xb)})[0].value();
  for (int64_t i = 0; i < ya.numel(); ++i) ASSERT_EQ(ya.data()[i], yb.data()[i]);
}

TEST(ModelJson, SequentialRoundTripsBuiltOrNot) {
  tg::Sequential built({tg::Conv2D(4, 3, {.activation = "relu"}), tg::Flatten(), tg::Dense(2)}, {.name = "net"});
  built.build({6, 6, 1});
  const std::string text = built.to_json();
  EXPECT_NE(text.find(R"("class_name": "Sequential", "config": {"name": "net", "layers": [{"module": "keras.layers", "class_name": "InputLayer")"),
            std::string::npos);
  std::shared_ptr<tg::Layer> copy = tg::model_from_json(text);
  ASSERT_TRUE(std::dynamic_pointer_cast<tg::Sequential>(copy));
  EXPECT_TRUE(copy->built());
  expect_round_trip(built, {6, 6, 1}, false, "built Sequential");

  tg::Sequential unbuilt({tg::Dense(3), tg::Dense(1)});
  std::shared_ptr<tg::Layer> copy2 = tg::model_from_json(unbuilt.to_json());
  EXPECT_FALSE(copy2->built());
  EXPECT_EQ(tg::to_json(*copy2), unbuilt.to_json());

  // Keras' Sequential(Dense(8, input_shape=(4,))): the input shape in the first layer's config.
  const std::string keras_sequential = R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d", "trainable": true, "dtype": "float32",
       "batch_input_shape": [null, 4], "units": 8, "activation": "relu"}, "registered_name": null}]},
      "keras_version": "2.15.0", "backend": "tensorflow"})";
  std::shared_ptr<tg::Layer> s = tg::model_from_json(keras_sequential);
  EXPECT_TRUE(s->built());
  EXPECT_EQ(s->count_params(), 4 * 8 + 8);
}

// Older Keras 2 wrote entries without "module", keys in another order, and TF 2.0-2.3 a dtype
// inside initializer configs; Keras still reads them, and so does tapegrad.
TEST(ModelJson, OlderKeras2FormatsLoad) {
  const std::string legacy = R"({"class_name": "Model", "config": {"name": "old", "layers": [
    {"name": "input_1", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 10], "dtype": "float32", "sparse": false, "name": "input_1"}, "inbound_nodes": []},
    {"class_name": "Dense", "config": {"kernel_initializer": {"class_name": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_in", "distribution": "normal", "seed": null, "dtype": "float32"}},
      "name": "dense_1", "kernel_constraint": null, "bias_regularizer": null, "bias_constraint": null, "dtype": "float32", "activation": "relu",
      "trainable": true, "kernel_regularizer": {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.0005000000237487257}},
      "bias_initializer": {"class_name": "Zeros", "config": {"dtype": "float32"}}, "units": 5, "use_bias": true, "activity_regularizer": null},
     "inbound_nodes": [[["input_1", 0, 0, {}]]], "name": "dense_1"}],
    "input_layers": [["input_1", 0, 0]], "output_layers": [["dense_1", 0, 0]]}, "keras_version": "2.2.4-tf", "backend": "tensorflow"})";
  auto model = std::dynamic_pointer_cast<tg::Model>(tg::model_from_json(legacy));
  ASSERT_TRUE(model);
  EXPECT_EQ(model->count_params(), 10 * 5 + 5);
  const nlohmann::ordered_json j = nlohmann::ordered_json::parse(model->to_json());
  const auto& dense = j.at("config").at("layers")[1].at("config");
  EXPECT_EQ(dense.at("kernel_initializer").at("config").dump(),
            R"({"scale":2.0,"mode":"fan_in","distribution":"truncated_normal","seed":null})");
  EXPECT_EQ(dense.at("kernel_regularizer").at("config").dump(), R"({"l2":0.0005000000237487257})");
}

TEST(ModelJson, WhatKerasJsonCannotHoldIsRefused) {
  auto in = tg::Input({4});
  tg::Model custom_init({in}, {tg::Dense(2, {.kernel_initializer = tg::Initializer([](const Shape& s, tg::Rng&) {
                                                return Tensor::ones(s);
                                              }, "all_ones")})(in)});
  EXPECT_ERROR(custom_init.to_json(), {"Dense 'dense'", "kernel_initializer", "all_ones"});
  auto in2 = tg::Input({4});
  tg::Model relu6({in2}, {tg::Dense(2, {.activation = tg::Activation::relu({.max_value = 6.0f})})(in2)});
  EXPECT_ERROR(relu6.to_json(), {"Dense 'dense'", "activation", "relu"});
  auto in3 = tg::Input({4});
  tg::Model custom_reg({in3}, {tg::Dense(2, {.kernel_regularizer = std::make_shared<tg::CallableRegularizer>(
                                                 [](const Variable& w) { return tg::sum(w); })})(in3)});
  EXPECT_ERROR(custom_reg.to_json(), {"kernel_regularizer", "custom regularizer"});

  struct Twice : tg::Layer {
    Twice() : Layer("Twice", "") {}
    Shape output_shape(const Shape& s) const override { return s; }
    Variable forward(const Variable& x, bool) override { return x * 2.0f; }
  };
  auto in4 = tg::Input({4});
  auto twice = std::make_shared<Twice>();
  tg::Model custom_layer({in4}, {(*twice)(in4)});
  EXPECT_ERROR(custom_layer.to_json(), {"Twice 'twice'", "has no Keras config", "Conv2D"});
  tg::Dense dense(3);
  EXPECT_ERROR(tg::to_json(dense), {"to_json", "not a model"});
}

namespace {
// A one-layer Keras model around a layer entry's config, to break one thing at a time.
std::string keras_model(const std::string& class_name, const std::string& config,
                        const std::string& inbound = R"([[["in", 0, 0, {}]]])", const std::string& input_shape = "[null, 4]") {
  return R"({"class_name": "Functional", "config": {"name": "m", "trainable": true, "layers": [
    {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_input_shape": )" + input_shape +
         R"(, "dtype": "float32", "sparse": false, "ragged": false, "name": "in"}, "registered_name": null, "name": "in", "inbound_nodes": []},
    {"module": "keras.layers", "class_name": ")" + class_name + R"(", "config": )" + config +
         R"(, "registered_name": null, "name": "l", "inbound_nodes": )" + inbound + R"(}],
    "input_layers": [["in", 0, 0]], "output_layers": [["l", 0, 0]]}, "keras_version": "2.15.0", "backend": "tensorflow"})";
}
}  // namespace

TEST(ModelJson, WhatTapegradCannotReadIsAClearError) {
  EXPECT_NO_THROW(tg::model_from_json(keras_model("Dense", R"({"name": "l", "units": 3})")));
  EXPECT_ERROR(tg::model_from_json(keras_model("Conv4D", R"({"name": "l"})")),
               {"unknown layer class 'Conv4D'", "Conv2D", "Dense"});
  EXPECT_ERROR(tg::model_from_json(keras_model("Dense", R"({"name": "l", "units": 3, "kernel_size": 3})")),
               {"Dense 'l'", "unknown option 'kernel_size'", "units", "kernel_initializer"});
  EXPECT_ERROR(tg::model_from_json(keras_model("Dense", R"({"name": "l", "units": "ten"})")),
               {"Dense 'l'", "units must be an integer", "the string \"ten\""});
  EXPECT_ERROR(tg::model_from_json(keras_model("Dense", R"({"name": "l", "units": 3, "activation": "mish2"})")),
               {"Dense 'l'", "activation", "mish2", "relu"});
  EXPECT_ERROR(tg::model_from_json(keras_model("Dense", R"({"name": "l", "units": 3, "kernel_initializer": {"class_name": "Glorot", "config": {}}})")),
               {"kernel_initializer", "unknown initializer class 'Glorot'", "GlorotUniform"});
  EXPECT_ERROR(tg::model_from_json(keras_model("Dense", R"({"name": "l", "units": 3, "kernel_initializer": {"class_name": "RandomNormal", "config": {"sigma": 1}}})")),
               {"RandomNormal", "unknown argument 'sigma'", "stddev"});
  EXPECT_ERROR(tg::model_from_json(keras_model("Dense", R"({"name": "l", "units": 3, "dtype": "float16"})")),
               {"Dense 'l'", "float16", "mixed_bfloat16"});
  EXPECT_ERROR(tg::model_from_json(keras_model("Conv1D", R"({"name": "l", "filters": 2, "kernel_size": [1], "groups": 2})", R"([[["in", 0, 0, {}]]])", "[null, 4, 2]")),
               {"Conv1D 'l'", "groups 2 is not supported"});
  EXPECT_ERROR(tg::model_from_json(keras_model("Dense", R"({"name": "l", "units": 3})", R"([[["nowhere", 0, 0, {}]]])")),
               {"'nowhere'", "not among the model's layers"});
  EXPECT_ERROR(tg::model_from_json(keras_model("Dense", R"({"name": "l", "units": 3})", R"([{"args": [], "kwargs": {}}])")),
               {"Keras 3"});
  EXPECT_ERROR(tg::model_from_json(keras_model("Dense", R"({"name": "l", "units": 3})", R"([[["in", 0, 0, {"training": true}]]])")),
               {"training"});
  EXPECT_ERROR(tg::model_from_json(keras_model("Dense", R"({"name": "l", "units": 3})", R"([[["in", 0, 0, {}]]])", "[null, null]")),
               {"InputLayer 'in'", "unknown size (None)"});
  EXPECT_ERROR(tg::model_from_json(keras_model("Dense", R"({"name": "l", "units": 3})", R"([[["in", 0, 0, {}]]])", "[null, 4, 5]").substr(3)),
               {"model_from_json", "not valid JSON"});
  EXPECT_ERROR(tg::model_from_json(R"({"class_name": "Net", "config": {}})"), {"'Net'", "Functional", "Sequential"});
  // A shape error while rebuilding the graph is the layer's own, at the line that calls it.
  EXPECT_ERROR(tg::model_from_json(keras_model("Conv2D", R"({"name": "l", "filters": 2, "kernel_size": [3, 3]})")),
               {"Conv2D 'l'", "(None, 4)"});
}
