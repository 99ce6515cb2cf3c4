#pragma once
// What a Keras object's get_config() holds, for architecture JSON (model_json.h): Keras' class
// name and its arguments, in Keras' order. Initializers made by name or by one of the factories
// carry one; a custom callable has none and cannot be written as JSON.
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace tapegrad {

// JSON's null, booleans, integers, numbers and strings.
using ConfigValue = std::variant<std::nullptr_t, bool, int64_t, double, std::string>;

struct KerasObjectConfig {
  std::string class_name;  // "GlorotUniform"
  std::vector<std::pair<std::string, ConfigValue>> config;  // {"seed", nullptr}
};

// A float argument as the decimal a user wrote: 0.05f becomes 0.05 (not 0.05000000074505806),
// as Keras keeps the Python float it was given.
double shortest_decimal(float value);

}  // namespace tapegrad
