#include "train/categorical_hinge_op.h"

#include <algorithm>
#include <vector>

#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad::losses {

Variable categorical_hinge_per_sample(const Tensor& y_true, const Variable& y_pred) {
  const int64_t batch = y_pred.dim(0), classes = y_pred.dim(1);
  const float *t = y_true.data(), *p = y_pred.value().data();
  Tensor out = Tensor::empty({batch});
  // d out / d p, per row: -t_j everywhere, plus (1 - t_k) at the arg-max k of the negative term,
  // when the hinge is active.
  Tensor deriv = Tensor::zeros({batch, classes});
  for (int64_t i = 0; i < batch; ++i) {
    const float *ti = t + i * classes, *pi = p + i * classes;
    float pos = 0.0f, neg = 0.0f;
    int64_t arg = 0;
    for (int64_t j = 0; j < classes; ++j) {
      pos += ti[j] * pi[j];
      const float candidate = (1.0f - ti[j]) * pi[j];
      if (j == 0 || candidate > neg) neg = candidate, arg = j;
    }
    const float margin = neg - pos + 1.0f;
    out.data()[i] = std::max(margin, 0.0f);
    if (margin > 0.0f) {
      float* di = deriv.data() + i * classes;
      for (int64_t j = 0; j < classes; ++j) di[j] = -ti[j];
      di[arg] += 1.0f - ti[arg];
    }
  }
  return record("categorical_hinge", std::move(out), {y_pred}, [deriv, batch](const Tensor& g, GradSink& s) {
    s.set(0, mul(deriv, g.reshape({batch, 1})));
  });
}

}  // namespace tapegrad::losses
