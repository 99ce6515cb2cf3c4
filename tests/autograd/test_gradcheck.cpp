// gradcheck itself: it passes a correct backward and catches one that is off by 10%.
#include <gtest/gtest.h>

#include "tapegrad/autograd/gradcheck.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"

namespace tg = tapegrad;
using tg::Tensor;
using tg::Variable;

namespace {

// y = x^3 with a backward scaled by `factor` (1 = correct).
Variable cube_with_scaled_backward(const Variable& x, float factor) {
  const Tensor v = x.value();
  return tg::record("cube", tg::mul(tg::mul(v, v), v), {x}, [v, factor](const Tensor& g, tg::GradSink& s) {
    s.set(0, tg::mul(tg::mul(g, tg::mul(tg::mul(v, v), 3.0f)), factor));
  });
}

Tensor inputs() {
  tg::Rng rng(3);
  return tg::add(Tensor::rand({3, 4}, rng, 0.5f, 1.5f), 0.0f);
}

}  // namespace

TEST(Gradcheck, PassesACorrectBackward) {
  auto r = tg::gradcheck([](const std::vector<Variable>& v) { return cube_with_scaled_backward(v[0], 1.0f); }, {inputs()});
  EXPECT_TRUE(r.ok) << r.report;
  EXPECT_LT(r.max_abs_error, 1e-3);
}

TEST(Gradcheck, CatchesABackwardOffByTenPercent) {
  for (float factor : {1.1f, 0.9f}) {
    auto r = tg::gradcheck([factor](const std::vector<Variable>& v) { return cube_with_scaled_backward(v[0], factor); },
                           {inputs()});
    EXPECT_FALSE(r.ok) << "factor " << factor;
    EXPECT_NE(r.report.find("analytic"), std::string::npos);
  }
}

TEST(Gradcheck, CatchesAMissingGradientForOneInput) {
  // Claims y = a * b but only returns the gradient for a.
  auto f = [](const std::vector<Variable>& v) {
    const Tensor a = v[0].value(), b = v[1].value();
    return tg::record("half_mul", tg::mul(a, b), {v[0], v[1]},
                      [b](const Tensor& g, tg::GradSink& s) { s.set(0, tg::mul(g, b)); });
  };
  tg::Rng rng(5);
  auto r = tg::gradcheck(f, {Tensor::rand({4}, rng, 0.5f, 1.0f), Tensor::rand({4}, rng, 0.5f, 1.0f)});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.report.find("input 1"), std::string::npos) << r.report;
}
