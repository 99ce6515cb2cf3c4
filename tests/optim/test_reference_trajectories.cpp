// Every case of tests/data/optimizers.json (Keras 2.15 update rules, 20 steps each), reproduced
// with our Dense layer, MSE and autograd: the parameters after each step, the loss after each
// step, and the gradient applied at step 1 (which shows the clipping).
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "reference_problem.h"

namespace tg = tapegrad;
using tg::Variable;

namespace {

void expect_close(double got, double want, const std::string& what) {
  EXPECT_NEAR(got, want, 2e-6 + 1e-5 * std::fabs(want)) << what;
}

class ReferenceTrajectory : public ::testing::TestWithParam<int> {};

}  // namespace

TEST_P(ReferenceTrajectory, MatchesKeras) {
  static const auto data = tg::testing::load_json("optimizers.json");
  const auto& c = data["cases"][GetParam()];
  SCOPED_TRACE(c["name"].get<std::string>());
  tg::testing::ReferenceProblem p(data["problem"]);
  auto opt = tg::testing::make_reference_optimizer(c, p.layer.parameters());
  EXPECT_EQ(opt->name(), c["optimizer"].get<std::string>());
  for (int step = 0; step < 20; ++step) {
    Variable l = p.loss();
    opt->zero_grad();
    l.backward();
    opt->step();
    const auto got = p.flat();
    const auto& want = c["trajectory"][step];
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i)
      expect_close(got[i], want[i].get<double>(), "step " + std::to_string(step + 1) + " param " + std::to_string(i));
    const double loss_after = c["loss_after_step"][step].get<double>();
    EXPECT_NEAR(p.loss().item(), loss_after, 1e-5 + 1e-5 * std::fabs(loss_after)) << "loss after step " << step + 1;
  }
  EXPECT_EQ(opt->iterations(), 20);
}

INSTANTIATE_TEST_SUITE_P(AllCases, ReferenceTrajectory, ::testing::Range(0, 22),
                         [](const ::testing::TestParamInfo<int>& info) {
                           static const auto data = tg::testing::load_json("optimizers.json");
                           std::string name = data["cases"][info.param]["name"];
                           for (char& ch : name)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return name;
                         });

TEST(ReferenceTrajectories, TheFileHoldsTheTwentyTwoCasesOfEveryOptimizer) {
  const auto data = tg::testing::load_json("optimizers.json");
  ASSERT_EQ(data["cases"].size(), 22u);
  std::set<std::string> types;
  for (const auto& c : data["cases"]) types.insert(c["optimizer"].get<std::string>());
  EXPECT_EQ(types, (std::set<std::string>{"SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam"}));
}
