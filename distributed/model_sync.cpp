// check_same_parameters and broadcast_parameters: every rank starts from rank 0's model.
#include <sstream>
#include <vector>

#include "tapegrad/core/error.h"
#include "tapegrad/distributed/distributed.h"

namespace tapegrad::distributed {

namespace {

std::vector<std::string> describe(const Layer& model) {
  std::vector<std::string> lines;
  for (const auto& p : model.parameters())
    lines.push_back("'" + p->name + "' " + p->var.shape().str() + (p->trainable ? "" : " (not trainable)"));
  return lines;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> lines;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

}  // namespace

void check_same_parameters(const Layer& model) {
  // An unbuilt model has no weights yet: broadcasting or averaging nothing, its ranks would
  // each train weights of their own.
  if (model.parameters().empty())
    fail("check_same_parameters", "model '" + model.name() + "' has no parameters (build it before the ranks share it)");
  const std::vector<std::string> mine = describe(model);
  std::string root_text = joined(mine);
  broadcast(root_text);
  const std::vector<std::string> root = split(root_text);
  std::string error;
  for (size_t i = 0; i < std::max(mine.size(), root.size()) && error.empty(); ++i) {
    if (i < mine.size() && i < root.size() && mine[i] == root[i]) continue;
    error = "check_same_parameters: parameter " + std::to_string(i) + " of model '" + model.name() + "' is " +
            (i < mine.size() ? mine[i] : "missing") + " here and " + (i < root.size() ? root[i] : "missing") +
            " on rank 0 (" + std::to_string(mine.size()) + " and " + std::to_string(root.size()) +
            " parameters): every rank must build the same model";
  }
  agree(error);
}

void broadcast_parameters(Layer& model) {
  check_same_parameters(model);
  if (size() == 1) return;
  for (const auto& p : model.parameters()) {
    Tensor& value = p->var.value();
    broadcast(std::span<float>(value.data(), static_cast<size_t>(value.numel())));
    value.mark_modified();
  }
}

}  // namespace tapegrad::distributed
