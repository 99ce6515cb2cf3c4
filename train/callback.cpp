#include "tapegrad/train/callback.h"

#include "tapegrad/core/error.h"

namespace tapegrad {

FitContext& Callback::context() {
  if (!context_) fail("Callback", "used outside fit(): it has no model or optimizer yet");
  return *context_;
}

const FitContext& Callback::context() const {
  if (!context_) fail("Callback", "used outside fit(): it has no model or optimizer yet");
  return *context_;
}

std::vector<Tensor> get_weights(const Layer& model) {
  std::vector<Tensor> out;
  for (const auto& p : model.parameters()) out.push_back(p->var.value().clone());
  return out;
}

void set_weights(Layer& model, const std::vector<Tensor>& weights) {
  const auto params = model.parameters();
  if (params.size() != weights.size())
    fail("set_weights", "the model has " + std::to_string(params.size()) + " weights, got " + std::to_string(weights.size()));
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i]->var.shape() != weights[i].shape())
      fail("set_weights", "weight " + std::to_string(i) + " ('" + params[i]->name + "') is " + params[i]->var.shape().str() +
                              ", got " + weights[i].shape().str());
  for (size_t i = 0; i < params.size(); ++i) params[i]->var.value().copy_from(weights[i]);
}

}  // namespace tapegrad
