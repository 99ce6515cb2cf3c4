#pragma once
// Logs: the named values of one batch or epoch ("loss", "accuracy", "val_loss", "lr"), kept in
// insertion order so that progress lines read as Keras prints them. History: the per-epoch logs
// of a fit() call, as Keras' History.history.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tapegrad {

class Logs {
 public:
  void set(const std::string& key, double value);
  std::optional<double> get(const std::string& key) const;
  bool contains(const std::string& key) const { return get(key).has_value(); }
  const std::vector<std::pair<std::string, double>>& items() const { return items_; }
  bool empty() const { return items_.empty(); }

 private:
  std::vector<std::pair<std::string, double>> items_;
};

struct History {
  std::vector<int> epochs;                               // 0-based epochs that ran
  std::map<std::string, std::vector<double>> history;    // key -> one value per epoch
  // The values of `key`; an error listing the known keys when it is missing.
  const std::vector<double>& operator[](const std::string& key) const;
  bool contains(const std::string& key) const { return history.count(key) > 0; }
  void append(int epoch, const Logs& logs);
};

}  // namespace tapegrad
