// Layer::get_weights / set_weights: Keras' weight access, by position and by name, with every
// count and shape checked before anything changes.
#include <set>

#include "tapegrad/core/error.h"
#include "tapegrad/layers/layer.h"

namespace tapegrad {

std::vector<Tensor> Layer::get_weights() const {
  std::vector<Tensor> out;
  for (const auto& p : parameters()) out.push_back(p->var.value().clone());
  return out;
}

void Layer::set_weights(const std::vector<Tensor>& weights) {
  const auto params = parameters();
  if (weights.size() != params.size())
    fail(label(), "set_weights got " + std::to_string(weights.size()) + " tensors, the layer has " +
                      std::to_string(params.size()) + " weights" + (built() ? "" : " (it is not built yet)"));
  for (size_t i = 0; i < params.size(); ++i)
    if (!weights[i].defined() || weights[i].shape() != params[i]->var.shape())
      fail(label(), "set_weights: tensor " + std::to_string(i) + " is " +
                        (weights[i].defined() ? weights[i].shape().str() : std::string("undefined")) + ", weight '" +
                        params[i]->name + "' is " + params[i]->var.shape().str());
  for (size_t i = 0; i < params.size(); ++i) params[i]->var.value().copy_from(weights[i]);
}

std::map<std::string, Tensor> Layer::get_named_weights() const {
  std::map<std::string, Tensor> out;
  for (const auto& p : parameters()) out.emplace(p->name, p->var.value().clone());
  return out;
}

std::vector<std::string> Layer::set_weights(const std::map<std::string, Tensor>& weights, bool strict) {
  const auto params = parameters();
  std::vector<std::string> skipped;
  std::set<std::string> known;
  for (const auto& p : params) {
    known.insert(p->name);
    const auto it = weights.find(p->name);
    if (it == weights.end()) {
      if (strict) fail(label(), "set_weights: no tensor for weight '" + p->name + "' (pass strict = false to skip it)");
      skipped.push_back(p->name);
      continue;
    }
    if (!it->second.defined() || it->second.shape() != p->var.shape())
      fail(label(), "set_weights: '" + p->name + "' is " +
                        (it->second.defined() ? it->second.shape().str() : std::string("undefined")) + ", the weight is " +
                        p->var.shape().str());
  }
  for (const auto& [name, t] : weights)
    if (!known.count(name)) {
      if (strict) fail(label(), "set_weights: the layer has no weight '" + name + "' (pass strict = false to skip it)");
      skipped.push_back(name);
    }
  for (const auto& p : params)
    if (const auto it = weights.find(p->name); it != weights.end()) p->var.value().copy_from(it->second);
  return skipped;
}

}  // namespace tapegrad
