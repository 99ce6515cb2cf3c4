#pragma once
// Shared pieces of the fit / callback tests: a learnable two-class problem, a probe layer that
// records the training flag of every call, and a callback that injects a monitored value.
#include <memory>
#include <vector>

#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/layers/dense.h"
#include "tapegrad/layers/sequential.h"
#include "tapegrad/train/callback.h"

namespace tapegrad::testing {

// Two Gaussian blobs in 4-D, class = which blob; linearly separable with a margin.
struct Blobs {
  Tensor x, y;  // y: class ids (n,)
  explicit Blobs(int64_t n, uint64_t seed = 1) {
    Rng rng(seed);
    x = Tensor::randn({n, 4}, rng, 0.0f, 0.7f);
    y = Tensor::empty({n});
    for (int64_t i = 0; i < n; ++i) {
      const float c = static_cast<float>(i % 2);
      y.data()[i] = c;
      for (int64_t j = 0; j < 4; ++j) x.data()[i * 4 + j] += c == 1.0f ? 1.0f : -1.0f;
    }
  }
};

// Identity layer that records `training` of each call, and optionally adds a constant penalty
// through add_loss (so the model's losses() is non-zero).
class ModeProbe : public Layer {
 public:
  explicit ModeProbe(float penalty = 0.0f) : Layer("ModeProbe", ""), penalty_(penalty) {}
  Shape output_shape(const Shape& s) const override { return s; }
  std::shared_ptr<std::vector<bool>> calls = std::make_shared<std::vector<bool>>();

 protected:
  Variable forward(const Variable& x, bool training) override {
    calls->push_back(training);
    if (penalty_ != 0.0f) add_loss(Variable(Tensor::scalar(penalty_)));
    return x;
  }

 private:
  float penalty_;
};

// Sets logs[key] = values[epoch] at each epoch end (before the callbacks listed after it).
inline std::shared_ptr<LambdaCallback> inject(const std::string& key, std::vector<double> values) {
  auto c = std::make_shared<LambdaCallback>();
  c->epoch_end = [key, values](int epoch, Logs& logs) { logs.set(key, values.at(static_cast<size_t>(epoch))); };
  return c;
}

}  // namespace tapegrad::testing
