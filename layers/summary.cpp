// Layer::summary(): Keras' model table, for a Sequential stack and for a model class alike.
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>
#include <unordered_set>

#include "tapegrad/core/error.h"
#include "tapegrad/layers/layer.h"

namespace tapegrad {

namespace {

// Keras 2's summary geometry: 65 columns, columns ending at 45%, 85% and 100% of the line.
constexpr int kLineLength = 65;
constexpr int kColumnEnds[] = {29, 55, 65};

std::string thousands(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// Keras' readable_memory_size of float32 weights: "4.77 MB", "0.00 Byte".
std::string memory_size(int64_t params) {
  double bytes = static_cast<double>(params) * 4.0;
  const char* units[] = {"Byte", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 4) {
    bytes /= 1024.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f %s", bytes, units[u]);
  return buf;
}

void print_row(std::ostream& os, const std::string (&fields)[3]) {
  std::string line;
  for (int i = 0; i < 3; ++i) {
    line += (i == 0 ? " " : "") + fields[i];
    // Cut a field that overflows its column, then pad to the column's end.
    if (static_cast<int>(line.size()) > kColumnEnds[i] - 1) line = line.substr(0, kColumnEnds[i] - 1);
    line.resize(kColumnEnds[i], ' ');
  }
  os << line << "\n";
}

}  // namespace

void Layer::summary(std::ostream& os) const {
  if (!built()) fail(label(), "summary() needs a built model: call build(input_shape) or run it once");
  const std::string rule(kLineLength, '_'), double_rule(kLineLength, '=');
  os << "Model: \"" << name() << "\"\n" << rule << "\n";
  print_row(os, {"Layer (type)", "Output Shape", "Param #"});
  os << double_rule << "\n";
  // One row per distinct direct sub-layer (a shared one once, at its first use), as Keras.
  std::unordered_set<const Layer*> shown;
  std::vector<size_t> rows;
  for (size_t i = 0; i < sublayers_.size(); ++i)
    if (shown.insert(sublayers_[i].get()).second) rows.push_back(i);
  for (size_t r = 0; r < rows.size(); ++r) {
    const Layer& l = *sublayers_[rows[r]];
    const std::string shape = l.has_output_shape_ ? with_batch_str(l.output_shape_) : "(unbuilt)";
    print_row(os, {sublayer_names_[rows[r]] + " (" + l.type() + ")", shape, std::to_string(l.count_params())});
    // Keras separates layers with a blank row and closes the table with '='.
    if (r + 1 < rows.size()) os << std::string(kLineLength, ' ') << "\n";
  }
  int64_t total = 0, trainable = 0;
  for (const auto& p : parameters()) {  // each weight once, however many layers share it
    total += p->var.numel();
    if (p->trainable) trainable += p->var.numel();
  }
  os << double_rule << "\n";
  os << "Total params: " << thousands(total) << " (" << memory_size(total) << ")\n";
  os << "Trainable params: " << thousands(trainable) << " (" << memory_size(trainable) << ")\n";
  os << "Non-trainable params: " << thousands(total - trainable) << " (" << memory_size(total - trainable) << ")\n";
  // The dtype policies of the layers under this one, when any is not the default (float32
  // tables stay Keras' own).
  std::map<std::string, int> policies;
  for (const auto& [prefix, l] : unique_layers())
    if (l != this || sublayers_.empty()) ++policies[l->dtype_policy().name()];
  if (policies.size() > 1 || !policies.count("float32")) {
    os << "Dtype policy:";
    const char* separator = " ";
    for (const auto& [name, layers] : policies) {
      os << separator << name << " (" << layers << (layers == 1 ? " layer)" : " layers)");
      separator = ", ";
    }
    os << "\n";
  }
  os << rule << "\n";
}

void Layer::summary() const { summary(std::cout); }

std::string Layer::summary_string() const {
  std::ostringstream os;
  summary(os);
  return os.str();
}

}  // namespace tapegrad
