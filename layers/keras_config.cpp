#include "tapegrad/layers/keras_config.h"

#include <charconv>
#include <cstdlib>
#include <string>

namespace tapegrad {

double shortest_decimal(float value) {
  // The shortest decimal that reads back as this float, read as a double: 0.05f -> 0.05.
  char text[64];
  const auto [end, ec] = std::to_chars(text, text + sizeof(text) - 1, value);
  if (ec != std::errc()) return static_cast<double>(value);
  *end = '\0';
  return std::strtod(text, nullptr);
}

}  // namespace tapegrad
