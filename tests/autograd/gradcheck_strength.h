#pragma once
// Helpers for gradcheck tests: `passes` reports gradcheck's mismatches; `detects_10_percent_error`
// runs the same check on f with its backward made 10% too large (an identity op whose backward
// scales the gradient by 1.1 after f), and succeeds only if gradcheck then fails. Together they
// show a check would catch a backward that is 10% off for those inputs.
#include <gtest/gtest.h>

#include <vector>

#include "tapegrad/autograd/gradcheck.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/tensor_ops.h"

namespace gradcheck_strength {

inline ::testing::AssertionResult passes(const tapegrad::GradcheckFn& f, const std::vector<tapegrad::Tensor>& inputs,
                                         const tapegrad::GradcheckOptions& options = {}) {
  const auto r = tapegrad::gradcheck(f, inputs, options);
  if (r.ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << r.report;
}

inline tapegrad::Variable backward_scaled(const tapegrad::Variable& y, float factor) {
  return tapegrad::record("backward_scaled", y.value(), {y}, [factor](const tapegrad::Tensor& g, tapegrad::GradSink& s) {
    s.set(0, tapegrad::mul(g, factor));
  });
}

inline ::testing::AssertionResult detects_10_percent_error(const tapegrad::GradcheckFn& f,
                                                           const std::vector<tapegrad::Tensor>& inputs,
                                                           const tapegrad::GradcheckOptions& options = {}) {
  const auto off = [&f](const std::vector<tapegrad::Variable>& v) { return backward_scaled(f(v), 1.1f); };
  const auto r = tapegrad::gradcheck(off, inputs, options);
  if (!r.ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "a backward 10% off passed gradcheck (max abs error " << r.max_abs_error << ")";
}

}  // namespace gradcheck_strength
