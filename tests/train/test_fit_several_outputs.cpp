// fit / evaluate / predict on graph models of several inputs and outputs: a loss per output (by
// position or output name) and loss_weights, Keras' log keys ("<output>_loss",
// "<output>_<metric>"), validation, and the errors. The model is the Keras functional API guide's
// ticket classifier with Conv1D + global max pooling in place of its LSTMs.
#include <gtest/gtest.h>

#include "../error_matchers.h"
#include "../json_data.h"
#include "tapegrad/tapegrad.h"

namespace tg = tapegrad;
using tg::Shape;
using tg::Tensor;

namespace {
constexpr int64_t kWords = 1000, kTags = 12, kDepartments = 4;

std::shared_ptr<tg::Model> ticket_model(int64_t words = 10000) {
  auto title = tg::Input({10}, {.name = "title"});
  auto body = tg::Input({20}, {.name = "body"});
  auto tags = tg::Input({kTags}, {.name = "tags"});
  auto title_features = tg::GlobalMaxPooling1D()(tg::Conv1D(128, 3)(tg::Embedding(words, 64)(title)));
  auto body_features = tg::GlobalMaxPooling1D()(tg::Conv1D(32, 3)(tg::Embedding(words, 64)(body)));
  auto x = tg::Concatenate()({title_features, body_features, tags});
  auto priority = tg::Dense(1, {.name = "priority"})(x);
  auto department = tg::Dense(kDepartments, {.name = "department"})(x);
  return std::make_shared<tg::Model>(std::vector{title, body, tags}, std::vector{priority, department}, "ticket_classifier");
}

// Random data as the guide trains it on, but learnable: priority and department follow the tags.
struct Tickets {
  std::vector<Tensor> x, y;
};
Tickets tickets(int64_t n, uint64_t seed) {
  tg::Rng rng(seed);
  Tensor title = Tensor::empty({n, 10}), body = Tensor::empty({n, 20}), tags = Tensor::zeros({n, kTags});
  Tensor priority = Tensor::empty({n, 1}), department = Tensor::zeros({n, kDepartments});
  for (int64_t i = 0; i < title.numel(); ++i) title.data()[i] = static_cast<float>(rng.uniform_int(kWords));
  for (int64_t i = 0; i < body.numel(); ++i) body.data()[i] = static_cast<float>(rng.uniform_int(kWords));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t tag = static_cast<int64_t>(rng.uniform_int(kTags));
    tags.data()[i * kTags + tag] = 1.0f;
    priority.data()[i] = tag < kTags / 2 ? 1.0f : 0.0f;
    department.data()[i * kDepartments + tag % kDepartments] = 1.0f;
  }
  return {{title, body, tags}, {priority, department}};
}
}  // namespace

TEST(FitSeveralOutputs, TicketModelHasTheGuidesShapesAndParameterCount) {
  auto model = ticket_model();
  ASSERT_EQ(model->outputs().size(), 2u);
  EXPECT_EQ(model->outputs()[0].shape(), Shape({1}));
  EXPECT_EQ(model->outputs()[1].shape(), Shape({kDepartments}));
  // Embeddings 2 x 10000*64, Conv1D 3*64*128+128 and 3*64*32+32, Dense 172+1 and 172*4+4.
  EXPECT_EQ(model->count_params(), 2 * 640000 + 24704 + 6176 + 173 + 692);
  // Keras 2.15's table, character for character (tests/data/gen_summaries.py).
  EXPECT_EQ(model->summary_string(), tg::testing::load_json("summaries.json").at("ticket_classifier").get<std::string>());
}

TEST(FitSeveralOutputs, BothLossesFallAndTheLogsAreKeras) {
  tg::manual_seed(3);
  auto model = ticket_model(kWords);
  const Tickets data = tickets(256, 1);
  const tg::losses::BinaryCrossentropy bce({.from_logits = true});
  const tg::losses::CategoricalCrossentropy cce({.from_logits = true});
  tg::Adam opt(model->parameters(), {.learning_rate = 3e-3f});
  const auto accuracy = std::make_shared<tg::metrics::CategoricalAccuracy>();
  const tg::History h = tg::fit(*model, opt,
                                {{.output = "priority", .loss = &bce},
                                 {.output = "department", .loss = &cce, .weight = 0.2f, .metrics = {accuracy}}},  // "department_categorical_accuracy"
                                data.x, data.y, {.epochs = 8, .batch_size = 32, .validation_split = 0.25, .verbose = 0});
  for (const char* key : {"loss", "priority_loss", "department_loss", "department_categorical_accuracy", "val_loss",
                          "val_priority_loss", "val_department_loss", "val_department_categorical_accuracy"})
    EXPECT_TRUE(h.contains(key)) << key;
  // The total is the weighted sum of the outputs' losses (their running means are linear).
  for (size_t e = 0; e < h["loss"].size(); ++e)
    EXPECT_NEAR(h["loss"][e], h["priority_loss"][e] + 0.2 * h["department_loss"][e], 1e-5 * h["loss"][e]);
  EXPECT_LT(h["priority_loss"].back(), 0.5 * h["priority_loss"].front());
  EXPECT_LT(h["department_loss"].back(), 0.7 * h["department_loss"].front());  // weighted 0.2: slower
  EXPECT_GT(h["department_categorical_accuracy"].back(), 0.75);

  // evaluate gives the same keys; predict one tensor per output.
  const tg::Logs logs = tg::evaluate(*model, {{.loss = &bce}, {.loss = &cce, .weight = 0.2f}}, data.x, data.y);
  EXPECT_TRUE(logs.contains("priority_loss") && logs.contains("department_loss"));
  const auto predictions = tg::predict(*model, data.x, 100);
  ASSERT_EQ(predictions.size(), 2u);
  EXPECT_EQ(predictions[0].shape(), Shape({256, 1}));
  EXPECT_EQ(predictions[1].shape(), Shape({256, kDepartments}));
}

TEST(FitSeveralOutputs, OneOutputWithoutALossIsNotTrained) {
  tg::manual_seed(4);
  auto model = ticket_model(kWords);
  Tickets data = tickets(64, 2);
  data.y[1] = Tensor();  // no department targets
  const tg::losses::BinaryCrossentropy bce({.from_logits = true});
  tg::Adam opt(model->parameters());
  const auto before = model->get_layer("department")->get_weights();
  const tg::History h = tg::fit(*model, opt, {{.output = "priority", .loss = &bce}}, data.x, data.y, {.epochs = 1, .verbose = 0});
  EXPECT_TRUE(h.contains("priority_loss"));
  EXPECT_FALSE(h.contains("department_loss"));
  EXPECT_EQ(model->get_layer("department")->get_weights()[0].to_vector(), before[0].to_vector());
}

TEST(FitSeveralOutputs, Errors) {
  auto model = ticket_model(kWords);
  const Tickets data = tickets(16, 3);
  const tg::losses::BinaryCrossentropy bce({.from_logits = true});
  tg::Adam opt(model->parameters());
  EXPECT_ERROR(tg::fit(*model, opt, {{.loss = &bce}}, data.x, data.y), {"1 losses for the 2 outputs", "priority, department"});
  EXPECT_ERROR(tg::fit(*model, opt, {{.output = "urgency", .loss = &bce}}, data.x, data.y), {"no output 'urgency'", "priority, department"});
  EXPECT_ERROR(tg::fit(*model, opt, {{.output = "priority", .loss = &bce}, {.loss = &bce}}, data.x, data.y), {"name every output's loss"});
  EXPECT_ERROR(tg::fit(*model, opt, {{.output = "priority", .loss = &bce}, {.output = "priority", .loss = &bce}}, data.x, data.y),
               {"'priority' has two losses"});
  EXPECT_ERROR(tg::fit(*model, opt, {{.loss = &bce}, {.loss = &bce}}, {data.x[0], data.x[1]}, data.y), {"3 inputs, x holds 2"});
  EXPECT_ERROR(tg::fit(*model, opt, {{.loss = &bce}, {.loss = &bce}}, data.x, {data.y[0], Tensor()}), {"'department' has a loss but no target"});
  EXPECT_ERROR(tg::fit(*model, opt, {{.loss = &bce}, {.loss = &bce}}, data.x, data.y, {.class_weight = {{0, 2.0f}}}), {"class_weight"});
  const auto shared_metric = std::make_shared<tg::metrics::BinaryAccuracy>();
  EXPECT_ERROR(tg::fit(*model, opt, {{.loss = &bce, .metrics = {shared_metric}}, {.loss = &bce, .metrics = {shared_metric}}}, data.x, data.y),
               {"also given to another output"});
  EXPECT_ERROR(tg::fit(*model, opt, {{.loss = &bce}, {.loss = &bce}}, {data.x[0], data.x[1], tickets(8, 4).x[2]}, data.y),
               {"different numbers of samples"});
}
