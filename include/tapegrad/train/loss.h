#pragma once
// Loss objects (Keras' keras.losses classes): a loss function with its options and reduction
// fixed at construction, called as loss(y_true, y_pred, sample_weight). fit() takes one.
//   tg::losses::SparseCategoricalCrossentropy loss({.from_logits = true});
//   Variable l = loss(y, logits);
#include <functional>
#include <string>

#include "tapegrad/train/losses.h"

namespace tapegrad::losses {

class Loss {
 public:
  using Fn = std::function<Variable(const Tensor& y_true, const Variable& y_pred, const Reduce& reduce)>;
  Loss(std::string name, Reduction reduction, Fn fn);
  virtual ~Loss() = default;

  // sample_weight: undefined (all 1), a scalar, one weight per sample, or the per-sample shape.
  Variable operator()(const Tensor& y_true, const Variable& y_pred, const Tensor& sample_weight = {}) const;
  const std::string& name() const { return name_; }  // Keras' function name, "mean_squared_error"
  Reduction reduction() const { return reduction_; }

 private:
  std::string name_;
  Reduction reduction_;
  Fn fn_;
};

// Any function with the loss functions' signature as a loss object, e.g. a user's own.
Loss make_loss(std::string name, Loss::Fn fn, Reduction reduction = Reduction::sum_over_batch_size);

class MeanSquaredError : public Loss {
 public:
  explicit MeanSquaredError(Reduction r = Reduction::sum_over_batch_size);
};
class MeanAbsoluteError : public Loss {
 public:
  explicit MeanAbsoluteError(Reduction r = Reduction::sum_over_batch_size);
};
class MeanAbsolutePercentageError : public Loss {
 public:
  explicit MeanAbsolutePercentageError(Reduction r = Reduction::sum_over_batch_size);
};
class MeanSquaredLogarithmicError : public Loss {
 public:
  explicit MeanSquaredLogarithmicError(Reduction r = Reduction::sum_over_batch_size);
};
class Huber : public Loss {
 public:
  explicit Huber(float delta = 1.0f, Reduction r = Reduction::sum_over_batch_size);
};
class LogCosh : public Loss {
 public:
  explicit LogCosh(Reduction r = Reduction::sum_over_batch_size);
};
class Poisson : public Loss {
 public:
  explicit Poisson(Reduction r = Reduction::sum_over_batch_size);
};
class BinaryCrossentropy : public Loss {
 public:
  explicit BinaryCrossentropy(CrossEntropyOptions o = {}, Reduction r = Reduction::sum_over_batch_size);
};
class CategoricalCrossentropy : public Loss {
 public:
  explicit CategoricalCrossentropy(CrossEntropyOptions o = {}, Reduction r = Reduction::sum_over_batch_size);
};
class SparseCategoricalCrossentropy : public Loss {
 public:
  explicit SparseCategoricalCrossentropy(CrossEntropyOptions o = {}, Reduction r = Reduction::sum_over_batch_size);
};
class KLDivergence : public Loss {
 public:
  explicit KLDivergence(Reduction r = Reduction::sum_over_batch_size);
};
class Hinge : public Loss {
 public:
  explicit Hinge(Reduction r = Reduction::sum_over_batch_size);
};
class SquaredHinge : public Loss {
 public:
  explicit SquaredHinge(Reduction r = Reduction::sum_over_batch_size);
};
class CategoricalHinge : public Loss {
 public:
  explicit CategoricalHinge(Reduction r = Reduction::sum_over_batch_size);
};
class CosineSimilarity : public Loss {
 public:
  explicit CosineSimilarity(Reduction r = Reduction::sum_over_batch_size);
};

}  // namespace tapegrad::losses
