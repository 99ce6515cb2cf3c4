#include "tapegrad/autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "tapegrad/autograd/ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/rng.h"

namespace tapegrad {

namespace {

// <f(x), r> in double.
double project(const Tensor& out, const Tensor& r) {
  double s = 0.0;
  for (int64_t i = 0; i < out.numel(); ++i) s += static_cast<double>(out.data()[i]) * r.data()[i];
  return s;
}

}  // namespace

GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs, const GradcheckOptions& options) {
  std::vector<Variable> vars;
  for (const Tensor& t : inputs) vars.emplace_back(t.clone(), true);

  // Analytic: backward of <f(x), r>.
  const Variable out = f(vars);
  if (!out.defined() || !out.requires_grad()) fail("gradcheck", "f's result does not depend on the inputs through the tape");
  Rng rng(options.seed);
  const Tensor r = Tensor::randn(out.shape(), rng);
  out.backward(r);

  GradcheckResult result;
  std::ostringstream report;
  int reported = 0;
  NoGradGuard no_grad;
  for (size_t i = 0; i < vars.size(); ++i) {
    Tensor& x = vars[i].value();
    const Tensor& analytic = vars[i].grad();
    for (int64_t j = 0; j < x.numel(); ++j) {
      const float original = x.data()[j];
      x.data()[j] = original + options.eps;
      const float up = x.data()[j];
      const double f_up = project(f(vars).value(), r);
      x.data()[j] = original - options.eps;
      const float down = x.data()[j];
      const double f_down = project(f(vars).value(), r);
      x.data()[j] = original;
      // Divide by the step actually taken: float rounding makes it differ from 2 * eps.
      const double numeric = (f_up - f_down) / (static_cast<double>(up) - down);
      const double got = analytic.defined() ? analytic.data()[j] : 0.0;
      const double err = std::fabs(got - numeric);
      result.max_abs_error = std::max(result.max_abs_error, err);
      if (!(err <= options.atol + options.rtol * std::fabs(numeric))) {
        result.ok = false;
        if (reported++ < 5)
          report << "input " << i << " " << x.shape().str() << " element " << j << ": analytic " << got << ", numeric "
                 << numeric << "\n";
      }
    }
  }
  if (!result.ok) report << reported << " element(s) differ; max abs error " << result.max_abs_error << "\n";
  result.report = report.str();
  return result;
}

}  // namespace tapegrad
