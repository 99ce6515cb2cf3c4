#pragma once
// gradcheck: compares an op's backward with central finite differences. The output is reduced
// to a scalar through a fixed random projection, so every output element's gradient counts.
#include <functional>
#include <string>
#include <vector>

#include "tapegrad/autograd/variable.h"

namespace tapegrad {

struct GradcheckOptions {
  float eps = 5e-3f;   // finite-difference step (float32: larger steps lose less to rounding)
  float atol = 1e-3f;  // an element passes when |analytic - numeric| <= atol + rtol * |numeric|
  float rtol = 1e-2f;
  uint64_t seed = 1234;  // of the projection
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0.0;
  std::string report;  // the first mismatches: input, element, analytic, numeric
  explicit operator bool() const { return ok; }
};

using GradcheckFn = std::function<Variable(const std::vector<Variable>&)>;

// Runs f on Variables made from `inputs` (all requiring grad) and checks every input's gradient.
GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

}  // namespace tapegrad
