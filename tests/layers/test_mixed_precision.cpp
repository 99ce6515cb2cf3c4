// Keras' dtype policies: the policy API, layers taking the global policy when constructed (or
// their own .dtype), and what mixed_bfloat16 computes: Dense and Conv2D products (forward and
// every gradient) equal float32 products of the bf16-rounded operands, to float32 rounding, on
// every bf16 instruction set this CPU has, at 1 and 2 threads alike; backward runs in the dtype
// the forward ran in; and a model trains as well either way.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "../error_matchers.h"
#include "../bf16_testing.h"
#include "../test_data.h"
#include "tapegrad/autograd/conv.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/bf16.h"
#include "tapegrad/core/parallel.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/data/spirals.h"
#include "tapegrad/layers/conv.h"
#include "tapegrad/layers/dense.h"
#include "tapegrad/layers/mixed_precision.h"
#include "tapegrad/layers/reshaping.h"
#include "tapegrad/layers/sequential.h"
#include "tapegrad/optim/adam.h"
#include "tapegrad/train/losses.h"
#include "tapegrad/train/metrics.h"

namespace tg = tapegrad;
namespace mp = tapegrad::mixed_precision;
using tg::Tensor;
using tg::Variable;
using tapegrad::testing::available_bf16_isas;
using tapegrad::testing::relative_difference;
using tapegrad::testing::make;

namespace {

// Restores the float32 global policy and the best ISA whatever a test does.
struct PolicyReset {
  ~PolicyReset() {
    mp::set_global_policy("float32");
    tg::set_bf16_isa(tg::best_bf16_isa());
    tg::set_num_threads(2);
  }
};

Tensor rounded(const Tensor& t) {
  Tensor r = t.clone();
  for (int64_t i = 0; i < r.numel(); ++i) r.data()[i] = tg::round_to_bf16(r.data()[i]);
  return r;
}

}  // namespace

TEST(MixedPrecision, PoliciesNameTheirDtypes) {
  const mp::Policy mixed("mixed_bfloat16");
  EXPECT_EQ(mixed.name(), "mixed_bfloat16");
  EXPECT_EQ(mixed.compute_dtype(), tg::Dtype::bfloat16);
  EXPECT_EQ(mixed.variable_dtype(), tg::Dtype::float32);
  EXPECT_EQ(mp::Policy().compute_dtype(), tg::Dtype::float32);
  EXPECT_ERROR(mp::Policy("mixed_float16"), {"unknown dtype policy 'mixed_float16'", "supported: float32, mixed_bfloat16"});
  EXPECT_EQ(mp::global_policy().name(), "float32");
}

TEST(MixedPrecision, LayersTakeTheGlobalPolicyWhenConstructed) {
  PolicyReset reset;
  tg::Dense before(4);
  mp::set_global_policy("mixed_bfloat16");
  tg::Dense after(4), own(4, {.dtype = "float32"});
  tg::Conv2D conv(4, 3);
  mp::set_global_policy("float32");
  EXPECT_EQ(before.dtype_policy().name(), "float32");
  EXPECT_EQ(after.dtype_policy().name(), "mixed_bfloat16");
  EXPECT_EQ(after.compute_dtype(), "bfloat16");
  EXPECT_EQ(after.variable_dtype(), "float32");
  EXPECT_EQ(own.compute_dtype(), "float32") << "the layer's own dtype wins";
  EXPECT_EQ(conv.compute_dtype(), "bfloat16") << "setting the global policy later changes no existing layer";
  tg::Dense bad_name(2);
  EXPECT_THROW(bad_name.set_dtype_policy("half"), tg::Error);
  after.build({3});
}

TEST(MixedPrecision, SummarySaysThePolicyWhenItIsNotFloat32) {
  PolicyReset reset;
  tg::Sequential plain({tg::Dense(4), tg::Dense(2)});
  plain.build({3});
  EXPECT_EQ(plain.summary_string().find("Dtype policy"), std::string::npos) << "float32 summaries stay Keras' own";
  mp::set_global_policy("mixed_bfloat16");
  tg::Sequential mixed({tg::Dense(4), tg::Dense(2, {.dtype = "float32"}), tg::Dense(2)});
  mixed.build({3});
  EXPECT_NE(mixed.summary_string().find("Dtype policy: float32 (1 layer), mixed_bfloat16 (2 layers)\n"), std::string::npos)
      << mixed.summary_string();
}

TEST(MixedPrecision, DenseComputesOnRoundedOperandsOnEveryIsa) {
  PolicyReset reset;
  const Tensor x = make({37, 50}, 1), dy = make({37, 20}, 2);
  tg::Dense layer(20, {.dtype = "mixed_bfloat16"});
  layer.build({50});
  const Tensor w = layer.kernel()->var.value(), b = layer.bias()->var.value();
  // float32 products of the rounded operands: what bf16 with float32 accumulation computes.
  const Tensor want_y = tg::add(tg::matmul(rounded(x), rounded(w)), b);
  const Tensor want_dx = tg::matmul(rounded(dy), rounded(w), false, true);
  const Tensor want_dw = tg::matmul(rounded(x), rounded(dy), true, false);
  const Tensor float32_y = tg::add(tg::matmul(x, w), b);
  for (tg::Bf16Isa isa : available_bf16_isas()) {
    tg::set_bf16_isa(isa);
    Variable xv(x, true);
    const Variable y = layer(xv);
    y.backward(dy);
    const std::string what = tg::bf16_isa_name(isa);
    EXPECT_LT(relative_difference(y.value(), want_y), 1e-5) << what;
    EXPECT_GT(relative_difference(float32_y, want_y), 1e-4) << "the test data must tell bf16 from float32";
    EXPECT_LT(relative_difference(xv.grad(), want_dx), 1e-5) << what << " input gradient";
    EXPECT_LT(relative_difference(layer.kernel()->var.grad(), want_dw), 1e-5) << what << " kernel gradient";
    layer.kernel()->var.zero_grad();
    layer.bias()->var.zero_grad();
  }
}

TEST(MixedPrecision, ConvolutionsComputeOnRoundedOperandsOnEveryIsaAndThreadCount) {
  PolicyReset reset;
  // Without AMX, small GEMMs and Winograd's geometries run as float32 kernels on the rounded
  // operands, the others (c_out and kernel positions x c_in from 64: the last two cases and the
  // 48 -> 64 one) through im2col + the bf16 GEMM.
  // im2col + GEMM (few channels), and on AMX the direct stride-1 kernel (c_in a multiple of
  // 16): kernel rows of 32 + 16, 16 alone (1x1), 32 + 32 + 16 (5x5); 1 to 5 column blocks; 1-D
  // and 3-D; the input gradient through it when c_out is a multiple of 16 too. Strided, AMX's
  // forward by output rows: a 16 + 4 row split, narrow rows (5 outputs), a 1x1 window (a 16-element
  // run), 48 channels (a 32 + 16 run per kernel column), stride in one dim only, 1-D at stride 3, 3-D.
  struct Case {
    std::vector<int64_t> spatial, kernel;
    int64_t c_in, c_out;
    std::vector<int64_t> strides;
    std::string padding;
  };
  for (const Case& c : {Case{{9, 9}, {3, 3}, 5, 20, {1, 1}, "same"}, Case{{10, 10}, {3, 3}, 16, 33, {2, 2}, "same"},
                        Case{{8, 8}, {3, 3}, 3, 16, {1, 1}, "valid"}, Case{{9, 7}, {3, 3}, 16, 16, {1, 1}, "same"},
                        Case{{6, 6}, {3, 3}, 32, 48, {1, 1}, "valid"}, Case{{7, 5}, {1, 1}, 16, 80, {1, 1}, "same"},
                        Case{{8, 8}, {5, 5}, 16, 32, {1, 1}, "same"}, Case{{20}, {3}, 32, 16, {1}, "causal"},
                        Case{{4, 5, 4}, {3, 3, 3}, 16, 16, {1, 1, 1}, "same"},
                        Case{{9, 40}, {3, 3}, 16, 32, {2, 2}, "same"}, Case{{9, 9}, {1, 1}, 16, 32, {2, 2}, "valid"},
                        Case{{7, 7}, {3, 3}, 48, 64, {2, 2}, "valid"}, Case{{6, 9}, {3, 3}, 32, 16, {1, 2}, "same"},
                        Case{{21}, {5}, 32, 16, {3}, "valid"}, Case{{4, 6, 5}, {3, 3, 3}, 16, 16, {2, 2, 2}, "same"},
                        Case{{6, 5}, {1, 1}, 64, 64, {1, 1}, "same"}, Case{{12}, {5}, 32, 64, {1}, "same"}}) {
    tg::Shape xs{3};
    for (int64_t d : c.spatial) xs.push_back(d);
    xs.push_back(c.c_in);
    tg::Shape ws(c.kernel);
    ws.push_back(c.c_in);
    ws.push_back(c.c_out);
    const Tensor x = make(xs, 3), w = make(ws, 4), bias = make({c.c_out}, 5);
    const std::vector<int64_t> dilation(c.spatial.size(), 1);
    const tg::ConvParams params{c.strides, dilation, c.padding};
    const Tensor want_y = tg::conv(Variable(rounded(x)), Variable(rounded(w)), params, Variable(bias)).value();
    const Tensor dy = make(want_y.shape(), 6);
    EXPECT_GT(relative_difference(tg::conv(Variable(x), Variable(w), params, Variable(bias)).value(), want_y), 1e-4)
        << "the test data must tell bf16 from float32";
    // Reference gradients: float32 backward on the rounded x, w and dy.
    Variable rx(rounded(x), true), rw(rounded(w), true);
    tg::conv(rx, rw, params, Variable(bias)).backward(rounded(dy));
    Tensor first_y, first_dx, first_dw;
    for (tg::Bf16Isa isa : available_bf16_isas())
      for (int threads : {1, 2}) {
        tg::set_bf16_isa(isa);
        tg::set_num_threads(threads);
        Variable xv(x, true), wv(w, true), bv(bias, true);
        Variable y;
        {
          const tg::ComputeDtypeScope scope(tg::Dtype::bfloat16);
          y = tg::conv(xv, wv, params, bv);
        }
        y.backward(dy);  // outside the scope: runs in the dtype the forward recorded
        const std::string what = std::string(tg::bf16_isa_name(isa)) + " " + x.shape().str() + " * " + w.shape().str() +
                                 " strides " + tg::Shape(c.strides).str() + ", " + std::to_string(threads) + " threads";
        EXPECT_LT(relative_difference(y.value(), want_y), 1e-5) << what;
        EXPECT_LT(relative_difference(xv.grad(), rx.grad()), 1e-5) << what << " input gradient";
        EXPECT_LT(relative_difference(wv.grad(), rw.grad()), 1e-5) << what << " kernel gradient";
        // The bias gradient is a sum, not a product: float32 on dy as it is.
        std::vector<int> batch_and_spatial(c.spatial.size() + 1);
        for (size_t d = 0; d < batch_and_spatial.size(); ++d) batch_and_spatial[d] = static_cast<int>(d);
        EXPECT_LT(relative_difference(bv.grad(), tg::sum(dy, batch_and_spatial)), 1e-5) << what << " bias gradient";
        if (threads == 1) {
          first_y = y.value();
          first_dx = xv.grad();
          first_dw = wv.grad();
        } else {
          EXPECT_EQ(y.value().to_vector(), first_y.to_vector()) << what << ": depends on the thread count";
          EXPECT_EQ(xv.grad().to_vector(), first_dx.to_vector()) << what << ": depends on the thread count";
          EXPECT_EQ(wv.grad().to_vector(), first_dw.to_vector()) << what << ": depends on the thread count";
        }
      }
  }
}

// A ResNet block's input, read by a strided 3x3 convolution and a strided 1x1 shortcut: the
// second backward to run adds its input gradient into the first's (GradSink::accumulator), which
// the float32 strided kernels that serve both without AMX cannot do as they write.
TEST(MixedPrecision, AnInputReadByTwoConvolutionsGetsBothGradients) {
  PolicyReset reset;
  const Tensor x = make({2, 8, 8, 16}, 7), wa = make({3, 3, 16, 32}, 8), wb = make({1, 1, 16, 32}, 9);
  const tg::ConvParams strided{{2, 2}, {1, 1}, "same"};
  // The block's input is an op's output (here x times ones), whose gradient the tape sums.
  const auto block_input = [&](const Variable& v) { return tg::mul(v, Variable(Tensor::ones(x.shape()))); };
  Variable rx(rounded(x), true);
  const Variable rh = block_input(rx);
  const Variable want = tg::add(tg::conv(rh, Variable(rounded(wa)), strided), tg::conv(rh, Variable(rounded(wb)), strided));
  const Tensor dy = make(want.value().shape(), 10);
  want.backward(rounded(dy));
  for (tg::Bf16Isa isa : available_bf16_isas()) {
    tg::set_bf16_isa(isa);
    Variable xv(x, true);
    Variable y;
    {
      const tg::ComputeDtypeScope scope(tg::Dtype::bfloat16);
      const Variable h = block_input(xv);
      y = tg::add(tg::conv(h, Variable(wa), strided), tg::conv(h, Variable(wb), strided));
    }
    y.backward(dy);
    EXPECT_LT(relative_difference(y.value(), want.value()), 1e-5) << tg::bf16_isa_name(isa);
    EXPECT_LT(relative_difference(xv.grad(), rx.grad()), 1e-5) << tg::bf16_isa_name(isa) << " input gradient";
  }
}

namespace {

// Trains `make()`'s model under `policy` with Adam and returns its training accuracy; the loss
// must fall to under 30% of where it started.
double train_accuracy(const std::string& policy, const std::function<std::shared_ptr<tg::Sequential>()>& make, const Tensor& x,
                      const Tensor& y, int steps) {
  mp::set_global_policy(policy);
  tg::manual_seed(5);
  const auto model = make();
  model->build(x.shape().drop(0, 1));
  mp::set_global_policy("float32");
  EXPECT_EQ(model->layers()[0]->compute_dtype(), policy == "float32" ? "float32" : "bfloat16");
  tg::Adam opt(model->parameters(), {.learning_rate = 0.01f});
  double first = 0.0, last = 0.0;
  for (int step = 0; step < steps; ++step) {
    const Variable loss = tg::losses::sparse_categorical_crossentropy(y, (*model)(Variable(x), true), {.from_logits = true});
    if (step == 0) first = loss.value().item();
    last = loss.value().item();
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  EXPECT_LT(last, 0.3 * first) << policy << ": the loss must fall";
  return tg::metrics::sparse_categorical_accuracy(y, (*model)(Variable(x)).value());
}

}  // namespace

TEST(MixedPrecision, AnMlpTrainsAsWellInBfloat16) {
  PolicyReset reset;
  const auto data = tg::data::two_spirals(200, 11);
  auto mlp = [] {
    return std::make_shared<tg::Sequential>(std::vector<tg::LayerRef>{
        tg::Dense(64, {.activation = "relu"}), tg::Dense(64, {.activation = "relu"}), tg::Dense(2)});
  };
  const double float32 = train_accuracy("float32", mlp, data.x, data.y, 300);
  const double bfloat16 = train_accuracy("mixed_bfloat16", mlp, data.x, data.y, 300);
  EXPECT_GT(float32, 0.95);
  EXPECT_GT(bfloat16, 0.95);
  EXPECT_NEAR(bfloat16, float32, 0.03);
}

TEST(MixedPrecision, ACnnTrainsAsWellInBfloat16) {
  PolicyReset reset;
  // 10x10 images of noise with a brighter 3x3 patch: class 1 when it lies in the top half.
  constexpr int64_t n = 256;
  tg::Rng rng(8);
  Tensor x = Tensor::rand({n, 10, 10, 1}, rng, 0.0f, 0.5f), y = Tensor::zeros({n});
  for (int64_t i = 0; i < n; ++i) {
    const int64_t top = static_cast<int64_t>(rng.uniform_int(2)), r = top ? rng.uniform_int(3) : 5 + rng.uniform_int(3);
    const int64_t c = static_cast<int64_t>(rng.uniform_int(8));
    for (int64_t a = 0; a < 3; ++a)
      for (int64_t b = 0; b < 3; ++b) x.data()[((i * 10 + r + a) * 10 + c + b)] += 1.0f;
    y.data()[i] = static_cast<float>(top);
  }
  auto cnn = [] {
    return std::make_shared<tg::Sequential>(std::vector<tg::LayerRef>{
        tg::Conv2D(8, 3, {.padding = "same", .activation = "relu"}), tg::Conv2D(8, 3, {.strides = 2, .activation = "relu"}),
        tg::Flatten(), tg::Dense(2)});
  };
  const double float32 = train_accuracy("float32", cnn, x, y, 60);
  const double bfloat16 = train_accuracy("mixed_bfloat16", cnn, x, y, 60);
  EXPECT_GT(float32, 0.95);
  EXPECT_GT(bfloat16, 0.95);
  EXPECT_NEAR(bfloat16, float32, 0.03);
}
