// LocallyConnected1D/2D against Keras 2.15's semantics (tests/data/locally_connected.json, a
// float64 reference written by tests/data/gen_locally_connected.py from Keras' local_conv and
// bias_add): Keras-layout kernels and biases give Keras' outputs in channels_first and
// channels_last; gradients of the layer w.r.t. input, kernel and bias pass gradcheck.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "../autograd/gradcheck_strength.h"
#include "../json_data.h"
#include "tapegrad/autograd/gradcheck.h"
#include "tapegrad/autograd/variable.h"
#include "tapegrad/core/tensor.h"
#include "tapegrad/layers/locally_connected.h"

namespace tg = tapegrad;
using gradcheck_strength::detects_10_percent_error;
using gradcheck_strength::passes;
using tg::Shape;
using tg::Tensor;
using tg::Variable;

namespace {

void flatten_double(const nlohmann::json& j, std::vector<double>& out) {
  if (j.is_array()) {
    for (const auto& e : j) flatten_double(e, out);
  } else {
    out.push_back(j.get<double>());
  }
}

Shape shape_of(const nlohmann::json& j) { return Shape(j.get<std::vector<int64_t>>()); }

Tensor tensor_of(const nlohmann::json& values, const nlohmann::json& shape) {
  Tensor t = tg::testing::to_tensor(values);
  EXPECT_EQ(t.shape(), shape_of(shape));
  return t;
}

std::unique_ptr<tg::LocallyConnected> make_layer(const nlohmann::json& c) {
  const auto& o = c["options"];
  const tg::ConvOptions options{.strides = tg::IntTuple(o["strides"].get<std::vector<int64_t>>()),
                                .padding = o["padding"].get<std::string>(),
                                .data_format = o["data_format"].get<std::string>(),
                                .use_bias = o["use_bias"].get<bool>()};
  const int64_t filters = o["filters"];
  const tg::IntTuple kernel(o["kernel_size"].get<std::vector<int64_t>>());
  if (c["layer"] == "LocallyConnected1D") return std::make_unique<tg::LocallyConnected1D>(filters, kernel, options);
  return std::make_unique<tg::LocallyConnected2D>(filters, kernel, options);
}

// A built layer holding the case's Keras-layout kernel and bias.
std::unique_ptr<tg::LocallyConnected> layer_with_weights(const nlohmann::json& c) {
  auto layer = make_layer(c);
  layer->build(shape_of(c["input_shape"]).drop(0, 1));
  EXPECT_EQ(layer->kernel()->var.shape(), shape_of(c["kernel_shape"]));
  EXPECT_EQ(layer->bias()->var.shape(), shape_of(c["bias_shape"]));
  layer->kernel()->var.value().copy_from(tensor_of(c["kernel"], c["kernel_shape"]));
  layer->bias()->var.value().copy_from(tensor_of(c["bias"], c["bias_shape"]));
  return layer;
}

}  // namespace

TEST(LocallyConnectedKeras, ForwardMatchesKerasFloat64Reference) {
  const auto data = tg::testing::load_json("locally_connected.json");
  ASSERT_GE(data["cases"].size(), 4u);
  for (const auto& c : data["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    auto layer = layer_with_weights(c);
    const Tensor y = (*layer)(Variable(tensor_of(c["input"], c["input_shape"]))).value();
    ASSERT_EQ(y.shape(), shape_of(c["output_shape"]));
    std::vector<double> expected;
    flatten_double(c["expected"], expected);
    const std::vector<float> got = y.to_vector();
    ASSERT_EQ(got.size(), expected.size());
    int mismatches = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      if (std::abs(got[i] - expected[i]) > 1e-5 * std::max(1.0, std::abs(expected[i])) && ++mismatches <= 5)
        ADD_FAILURE() << "element " << i << ": got " << got[i] << ", Keras " << expected[i];
    }
    EXPECT_EQ(mismatches, 0) << "of " << got.size() << " elements";
  }
}

TEST(LocallyConnectedKeras, GradcheckInputKernelBias) {
  const auto data = tg::testing::load_json("locally_connected.json");
  for (const auto& c : data["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    auto layer = layer_with_weights(c);
    tg::LocallyConnected* l = layer.get();
    // The layer with its kernel and bias swapped for gradcheck's variables.
    const tg::GradcheckFn f = [l](const std::vector<Variable>& v) {
      l->kernel()->var = v[1];
      l->bias()->var = v[2];
      return (*l)(v[0]);
    };
    const std::vector<Tensor> inputs = {tensor_of(c["input"], c["input_shape"]), tensor_of(c["kernel"], c["kernel_shape"]),
                                        tensor_of(c["bias"], c["bias_shape"])};
    EXPECT_TRUE(passes(f, inputs));
    if (c["options"]["data_format"] == "channels_first") {
      EXPECT_TRUE(detects_10_percent_error(f, inputs));
    }
  }
}
