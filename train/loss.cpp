#include "tapegrad/train/loss.h"

#include "tapegrad/core/error.h"

namespace tapegrad::losses {

Loss::Loss(std::string name, Reduction reduction, Fn fn)
    : name_(std::move(name)), reduction_(reduction), fn_(std::move(fn)) {
  if (!fn_) fail("Loss", "'" + name_ + "' has an empty function");
}

Variable Loss::operator()(const Tensor& y_true, const Variable& y_pred, const Tensor& sample_weight) const {
  return fn_(y_true, y_pred, Reduce{reduction_, sample_weight});
}

Loss make_loss(std::string name, Loss::Fn fn, Reduction reduction) { return Loss(std::move(name), reduction, std::move(fn)); }

namespace {
// Adapts a loss function without options to Loss::Fn.
template <Variable (*F)(const Tensor&, const Variable&, const Reduce&)>
Loss::Fn plain() {
  return [](const Tensor& t, const Variable& p, const Reduce& r) { return F(t, p, r); };
}
}  // namespace

MeanSquaredError::MeanSquaredError(Reduction r) : Loss("mean_squared_error", r, plain<mean_squared_error>()) {}
MeanAbsoluteError::MeanAbsoluteError(Reduction r) : Loss("mean_absolute_error", r, plain<mean_absolute_error>()) {}
MeanAbsolutePercentageError::MeanAbsolutePercentageError(Reduction r)
    : Loss("mean_absolute_percentage_error", r, plain<mean_absolute_percentage_error>()) {}
MeanSquaredLogarithmicError::MeanSquaredLogarithmicError(Reduction r)
    : Loss("mean_squared_logarithmic_error", r, plain<mean_squared_logarithmic_error>()) {}
Huber::Huber(float delta, Reduction r)
    : Loss("huber", r, [delta](const Tensor& t, const Variable& p, const Reduce& red) { return huber(t, p, delta, red); }) {}
LogCosh::LogCosh(Reduction r) : Loss("log_cosh", r, plain<log_cosh>()) {}
Poisson::Poisson(Reduction r) : Loss("poisson", r, plain<poisson>()) {}
BinaryCrossentropy::BinaryCrossentropy(CrossEntropyOptions o, Reduction r)
    : Loss("binary_crossentropy", r,
           [o](const Tensor& t, const Variable& p, const Reduce& red) { return binary_crossentropy(t, p, o, red); }) {}
CategoricalCrossentropy::CategoricalCrossentropy(CrossEntropyOptions o, Reduction r)
    : Loss("categorical_crossentropy", r,
           [o](const Tensor& t, const Variable& p, const Reduce& red) { return categorical_crossentropy(t, p, o, red); }) {}
SparseCategoricalCrossentropy::SparseCategoricalCrossentropy(CrossEntropyOptions o, Reduction r)
    : Loss("sparse_categorical_crossentropy", r, [o](const Tensor& t, const Variable& p, const Reduce& red) {
        return sparse_categorical_crossentropy(t, p, o, red);
      }) {}
KLDivergence::KLDivergence(Reduction r) : Loss("kl_divergence", r, plain<kl_divergence>()) {}
Hinge::Hinge(Reduction r) : Loss("hinge", r, plain<hinge>()) {}
SquaredHinge::SquaredHinge(Reduction r) : Loss("squared_hinge", r, plain<squared_hinge>()) {}
CategoricalHinge::CategoricalHinge(Reduction r) : Loss("categorical_hinge", r, plain<categorical_hinge>()) {}
CosineSimilarity::CosineSimilarity(Reduction r) : Loss("cosine_similarity", r, plain<cosine_similarity>()) {}

}  // namespace tapegrad::losses
