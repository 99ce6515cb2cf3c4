#include "tapegrad/train/logs.h"

#include "tapegrad/core/error.h"

namespace tapegrad {

void Logs::set(const std::string& key, double value) {
  for (auto& [k, v] : items_)
    if (k == key) {
      v = value;
      return;
    }
  items_.emplace_back(key, value);
}

std::optional<double> Logs::get(const std::string& key) const {
  for (const auto& [k, v] : items_)
    if (k == key) return v;
  return std::nullopt;
}

const std::vector<double>& History::operator[](const std::string& key) const {
  const auto it = history.find(key);
  if (it == history.end()) {
    std::string known;
    for (const auto& [k, v] : history) known += (known.empty() ? "" : ", ") + k;
    fail("History", "no values for '" + key + "'; it holds: " + (known.empty() ? "nothing" : known));
  }
  return it->second;
}

void History::append(int epoch, const Logs& logs) {
  epochs.push_back(epoch);
  for (const auto& [k, v] : logs.items()) history[k].push_back(v);
}

}  // namespace tapegrad
