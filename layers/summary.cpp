// Layer::summary(): Keras 2.15's model table, for a Sequential stack and for a model class alike,
// and the table parts Model::summary() shares.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>
#include <unordered_set>

#include "tapegrad/core/error.h"
#include "tapegrad/layers/layer.h"
#include "layers/summary_table.h"

namespace tapegrad {

namespace summary_table {

namespace {
// Keras' readable_memory_size of float32 weights: "4.77 MB", "0.00 Byte".
std::string memory_size(int64_t params) {
  double bytes = static_cast<double>(params) * 4.0;
  const char* units[] = {"Byte", "KB", "MB", "GB", "TB", "PB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 5) {
    bytes /= 1024.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f %s", bytes, units[u]);
  return buf;
}
}  // namespace

void print_row(std::ostream& os, std::vector<std::string> fields, const std::vector<int>& column_ends) {
  const size_t last = column_ends.size() - 1;
  auto any_left = [&] {
    for (const auto& f : fields)
      if (!f.empty()) return true;
    return false;
  };
  while (any_left()) {
    std::string line;
    for (size_t col = 0; col < fields.size(); ++col) {
      const int start = col > 0 ? column_ends[col - 1] : 0;
      const int space = col != last ? 2 : 0;
      size_t cutoff = static_cast<size_t>(std::max(0, column_ends[col] - start - space - (col != last ? 1 : 0)));
      std::string fit = fields[col].substr(0, cutoff);
      // Line breaks after the end of a tuple, list or quoted item, as Keras.
      size_t best = std::string::npos;
      for (const char* end : {"),", "},", "],", "',"}) {
        const size_t at = fit.find(end);
        if (at != std::string::npos) best = std::min(best, at + 2);
      }
      if (best != std::string::npos) {
        cutoff = best;
        fit = fit.substr(0, cutoff);
      }
      if (col == 0) line += " ";
      line += fit + std::string(static_cast<size_t>(space), ' ');
      fields[col] = cutoff < fields[col].size() ? fields[col].substr(cutoff) : std::string();
      if (static_cast<int>(line.size()) < column_ends[col]) line.resize(static_cast<size_t>(column_ends[col]), ' ');
    }
    os << line << "\n";
  }
}

void print_totals(std::ostream& os, const Layer& model, int line_length) {
  int64_t total = 0, trainable = 0;
  for (const auto& p : model.parameters()) {  // each weight once, however many layers share it
    total += p->var.numel();
    if (p->trainable) trainable += p->var.numel();
  }
  os << std::string(static_cast<size_t>(line_length), '=') << "\n";
  // Keras 2.15 prints the counts without digit grouping.
  os << "Total params: " << total << " (" << memory_size(total) << ")\n";
  os << "Trainable params: " << trainable << " (" << memory_size(trainable) << ")\n";
  os << "Non-trainable params: " << total - trainable << " (" << memory_size(total - trainable) << ")\n";
}

std::string python_list(const std::vector<std::string>& items) {
  std::string s = "[";
  for (size_t i = 0; i < items.size(); ++i) s += (i ? ", '" : "'") + items[i] + "'";
  return s + "]";
}

}  // namespace summary_table

namespace {
// Keras 2.15's geometry for a stack of layers: 65 columns, columns ending at 45%, 85% and 100%.
constexpr int kLineLength = 65;
const std::vector<int> kColumnEnds = {29, 55, 65};
}  // namespace

void Layer::summary(std::ostream& os) const {
  if (!built()) fail(label(), "summary() needs a built model: call build(input_shape) or run it once");
  os << "Model: \"" << name() << "\"\n" << std::string(kLineLength, '_') << "\n";
  summary_table::print_row(os, {"Layer (type)", "Output Shape", "Param #"}, kColumnEnds);
  os << std::string(kLineLength, '=') << "\n";
  // One row per distinct direct sub-layer (a shared one once, at its first use), each followed
  // by a blank row, as Keras.
  std::unordered_set<const Layer*> shown;
  for (size_t i = 0; i < sublayers_.size(); ++i) {
    if (!shown.insert(sublayers_[i].get()).second) continue;
    const Layer& l = *sublayers_[i];
    const std::string shape = l.has_output_shape_ ? with_batch_str(l.output_shape_) : "(unbuilt)";
    summary_table::print_row(os, {sublayer_names_[i] + " (" + l.type() + ")", shape, std::to_string(l.count_params())},
                             kColumnEnds);
    os << std::string(kLineLength, ' ') << "\n";
  }
  summary_table::print_totals(os, *this, kLineLength);
  print_dtype_policies(os);
  os << std::string(kLineLength, '_') << "\n";
}

void Layer::print_dtype_policies(std::ostream& os) const {
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
}

void Layer::summary() const { summary(std::cout); }

std::string Layer::summary_string() const {
  std::ostringstream os;
  summary(os);
  return os.str();
}

}  // namespace tapegrad
