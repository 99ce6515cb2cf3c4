// Composing layers: names are paths that do not depend on the process, duplicate names are
// refused, shared layers and weights count once and get the sum of their uses' gradients, and any
// model class gets output_shape() and summary() (issue 12, cases 2, 3 and 6).
#include <gtest/gtest.h>

#include <filesystem>

#include "../error_matchers.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/conv.h"
#include "tapegrad/layers/dense.h"
#include "tapegrad/layers/dropout.h"
#include "tapegrad/layers/sequential.h"
#include "tapegrad/optim/adam.h"
#include "tapegrad/train/checkpoint.h"

namespace tg = tapegrad;
using tg::Shape;
using tg::Tensor;
using tg::Variable;

namespace {

std::vector<std::string> names_of(const std::vector<tg::ParameterPtr>& ps) {
  std::vector<std::string> out;
  for (const auto& p : ps) out.push_back(p->name);
  return out;
}

// A model class as a user writes one: attributes named by the author, one automatic.
class Block : public tg::Layer {
 public:
  explicit Block(int64_t units) : Layer("Block", "") {
    fc1_ = register_layer("fc1", std::make_shared<tg::Dense>(units, tg::DenseOptions{.activation = "relu"}));
    fc2_ = register_layer(std::make_shared<tg::Dense>(units));  // automatic: "dense"
  }

 protected:
  Variable forward(const Variable& x, bool training) override { return (*fc2_)((*fc1_)(x, training), training) + x; }

 private:
  std::shared_ptr<tg::Dense> fc1_, fc2_;
};

class Net : public tg::Layer {
 public:
  Net() : Layer("Net", "") {
    block1_ = register_layer("block1", std::make_shared<Block>(4));
    block2_ = register_layer("block2", std::make_shared<Block>(4));
    head_ = register_layer("head", std::make_shared<tg::Dense>(2));
  }

 protected:
  Variable forward(const Variable& x, bool training) override {
    return (*head_)((*block2_)((*block1_)(x, training), training), training);
  }

 private:
  std::shared_ptr<Block> block1_, block2_;
  std::shared_ptr<tg::Dense> head_;
};

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("tapegrad_composition_" + name)).string();
}

}  // namespace

TEST(Composition, ParameterNamesArePathsFromTheModel) {
  Net net;
  net.build({4});
  EXPECT_EQ(names_of(net.parameters()),
            (std::vector<std::string>{"block1/fc1/kernel", "block1/fc1/bias", "block1/dense/kernel", "block1/dense/bias",
                                      "block2/fc1/kernel", "block2/fc1/bias", "block2/dense/kernel", "block2/dense/bias",
                                      "head/kernel", "head/bias"}));
  EXPECT_EQ(net.get_layer("block2")->get_layer("fc1")->path(), "block2/fc1");
  EXPECT_ERROR((void)net.get_layer("block3"), {"Net", "no sub-layer named 'block3'", "block1, block2, head"});
}

TEST(Composition, NamesDoNotDependOnWhatElseTheProcessBuilt) {
  // The case 6: a second instance of one class has the same names, so it loads the
  // first one's weights strictly.
  for (int i = 0; i < 3; ++i) tg::Sequential({tg::Dense(3), tg::Conv2D(2, 3)});  // noise for a counter
  tg::Sequential a({tg::Dense(3), tg::Dense(2)}), b({tg::Dense(3), tg::Dense(2)});
  a.build({5});
  b.build({5});
  EXPECT_EQ(names_of(a.parameters()), (std::vector<std::string>{"dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias"}));
  EXPECT_EQ(names_of(a.parameters()), names_of(b.parameters()));
  Net n1, n2;
  n1.build({4});
  n2.build({4});
  const std::string path = temp_path("instances.weights");
  tg::save_weights(path, n1);
  EXPECT_TRUE(tg::load_weights(path, n2).empty());  // strict
  for (size_t i = 0; i < n1.parameters().size(); ++i)
    EXPECT_TRUE(tg::allclose(n1.parameters()[i]->var.value(), n2.parameters()[i]->var.value(), 0, 0));
  std::filesystem::remove(path);
}

TEST(Composition, DuplicateSiblingNamesAreRefusedNamingBoth) {
  // The case 2: two layers with one name would swap weights on load; now they cannot exist.
  EXPECT_ERROR(tg::Sequential({tg::Dense(4, {.name = "fc"}), tg::Dense(4, {.name = "fc"})}),
               {"Sequential", "two different sub-layers are named 'fc'", "sub-layer 0", "sub-layer 1"});
  struct Twice : tg::Layer {
    Twice() : Layer("Twice", "") {
      register_layer("a", std::make_shared<tg::Dense>(2));
      register_layer("a", std::make_shared<tg::Dropout>(0.5f));
    }
    Variable forward(const Variable& x, bool) override { return x; }
  };
  EXPECT_ERROR(Twice(), {"Twice", "named 'a'", "Dense", "Dropout"});
  // An automatic name steps aside for one already taken.
  tg::Sequential m({tg::Dense(2, {.name = "dense"}), tg::Dense(2)});
  m.build({2});
  EXPECT_EQ(m.sublayer_name(1), "dense_1");
}

TEST(Composition, ASharedLayerIsListedOnceAndGetsTheSumOfItsGradients) {
  // The case 3.
  auto d = std::make_shared<tg::Dense>(4);
  tg::Sequential m({d, d});
  m.build({4});
  EXPECT_EQ(m.parameters().size(), 2u);
  EXPECT_EQ(m.count_params(), 20);
  tg::Adam opt(m.parameters());  // no "given twice"
  const std::string s = m.summary_string();
  EXPECT_NE(s.find("Total params: 20"), std::string::npos) << s;
  EXPECT_EQ(s.find("dense_1"), std::string::npos) << "one row for the shared layer:\n" << s;
  // y = W (W x + b) + b: its gradient is the sum over both uses; compare with the ops by hand.
  Tensor x = Tensor::from({1, 4}, {0.5f, -1.0f, 2.0f, 0.25f});
  tg::sum(m(Variable(x))).backward();
  const Variable W(d->kernel()->var.value(), true), b(d->bias()->var.value(), true);
  tg::sum(tg::add(tg::matmul(tg::add(tg::matmul(Variable(x), W), b), W), b)).backward();
  EXPECT_TRUE(tg::allclose(d->kernel()->var.grad(), W.grad(), 1e-6f, 1e-6f));
  EXPECT_TRUE(tg::allclose(d->bias()->var.grad(), b.grad(), 1e-6f, 1e-6f));
}

TEST(Composition, ASharedWeightIsOneParameter) {
  struct Tied : tg::Layer {
    std::shared_ptr<tg::Dense> enc, dec;
    Tied() : Layer("Tied", "") {
      enc = register_layer("enc", std::make_shared<tg::Dense>(3, tg::DenseOptions{.use_bias = false}));
      dec = register_layer("dec", std::make_shared<tg::Dense>(3, tg::DenseOptions{.use_bias = false}));
    }
    Variable forward(const Variable& x, bool t) override { return (*dec)((*enc)(x, t), t); }
  };
  Tied t;
  t.build({3});
  EXPECT_EQ(t.parameters().size(), 2u);
  // A layer that lists another's weight: counted once, where it was first reached.
  struct Holder : tg::Layer {
    Holder(tg::ParameterPtr w) : Layer("Holder", "") { share_weight(w); }
    Variable forward(const Variable& x, bool) override { return x; }
    tg::Shape output_shape(const tg::Shape& s) const override { return s; }
  };
  auto holder = std::make_shared<Holder>(t.enc->kernel());
  tg::Sequential both({std::make_shared<Tied>(std::move(t)), holder});
  both.build({3});
  EXPECT_EQ(both.parameters().size(), 2u);
  EXPECT_EQ(names_of(both.parameters())[0], "tied/enc/kernel");
  EXPECT_EQ(both.count_params(), 18);
}

TEST(Composition, AModelClassGetsOutputShapeAndSummaryFromItsDryRun) {
  Net net;
  EXPECT_ERROR((void)net.output_shape({4}), {"Net", "build"});
  net.build({4});
  EXPECT_EQ(net.output_shape({4}), Shape({2}));
  EXPECT_EQ(net.output_shape({7, 4}), Shape({7, 2})) << "another shape: another dry run";
  const std::string s = net.summary_string();
  for (const char* row : {"block1 (Block)", "block2 (Block)", "head (Dense)", "(None, 4)", "(None, 2)", "Total params: 90"})
    EXPECT_NE(s.find(row), std::string::npos) << "missing '" << row << "' in\n" << s;
  EXPECT_EQ(net(Variable(Tensor::ones({3, 4}))).shape(), Shape({3, 2}));
}

TEST(Composition, ErrorsNameTheLayerByItsPath) {
  Net net;
  net.build({4});
  EXPECT_ERROR(net(Variable(Tensor::ones({2, 5}))), {"block1/fc1"});
}

TEST(Composition, AMovedModelKeepsItsChildrensPaths) {
  Net a;
  Net b(std::move(a));
  b.build({4});
  EXPECT_EQ(b.get_layer("block1")->get_layer("fc1")->path(), "block1/fc1");
}

TEST(Composition, ACycleOfLayersIsRefused) {
  auto outer = std::make_shared<tg::Sequential>();
  auto inner = std::make_shared<tg::Sequential>(std::initializer_list<tg::LayerRef>{outer});
  EXPECT_ERROR(outer->add(inner), {"already contains it", "not a cycle"});
  EXPECT_ERROR(outer->add(outer), {"cannot contain itself"});
}
