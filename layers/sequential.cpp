#include "layers/sequential.h"

#include <iostream>
#include <sstream>

#include "core/error.h"

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

Sequential::Sequential(std::initializer_list<LayerRef> layers, std::string name)
    : Sequential(std::vector<LayerRef>(layers), std::move(name)) {}

Sequential::Sequential(const std::vector<LayerRef>& layers, std::string name) : Layer("Sequential", std::move(name)) {
  for (const auto& l : layers) add(l);
}

void Sequential::add(LayerRef layer) {
  if (built()) fail(label(), "cannot add layers after the model is built");
  add_sublayer(layer.get());
}

Shape Sequential::output_shape(const Shape& input_shape) const {
  if (layers().empty()) fail(label(), "has no layers");
  Shape s = input_shape;
  for (const auto& l : layers()) s = l->output_shape(s);
  return s;
}

void Sequential::build_impl(const Shape& input_shape) {
  Shape s = input_shape;
  for (const auto& l : layers()) {
    l->build(s);
    s = l->output_shape(s);
  }
}

Variable Sequential::forward(const Variable& x, bool training) {
  Variable y = x;
  for (const auto& l : layers()) y = (*l)(y, training);
  return y;
}

void Sequential::summary(std::ostream& os) const {
  if (!built()) fail(label(), "summary() needs a built model: call build(input_shape) or run it once");
  const std::string rule(kLineLength, '_'), double_rule(kLineLength, '=');
  os << "Model: \"" << name() << "\"\n" << rule << "\n";
  print_row(os, {"Layer (type)", "Output Shape", "Param #"});
  os << double_rule << "\n";
  Shape s = input_shape();
  int64_t total = 0, trainable = 0;
  for (size_t i = 0; i < layers().size(); ++i) {
    const auto& l = layers()[i];
    s = l->output_shape(s);
    print_row(os, {l->name() + " (" + l->type() + ")", with_batch_str(s), std::to_string(l->count_params())});
    // Keras separates layers with a blank row and closes the table with '='.
    if (i + 1 < layers().size()) os << std::string(kLineLength, ' ') << "\n";
  }
  for (const auto& p : parameters()) {
    total += p->var.numel();
    if (p->trainable) trainable += p->var.numel();
  }
  os << double_rule << "\n";
  os << "Total params: " << thousands(total) << " (" << memory_size(total) << ")\n";
  os << "Trainable params: " << thousands(trainable) << " (" << memory_size(trainable) << ")\n";
  os << "Non-trainable params: " << thousands(total - trainable) << " (" << memory_size(total - trainable) << ")\n";
  os << rule << "\n";
}

void Sequential::summary() const { summary(std::cout); }

std::string Sequential::summary_string() const {
  std::ostringstream os;
  summary(os);
  return os.str();
}

}  // namespace tapegrad
