#pragma once
// Reads the reference data in tests/data (copied from shared/reference) for data-driven tests.
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tapegrad::testing {

inline nlohmann::json load_json(const std::string& name) {
  const std::string path = std::string(TAPEGRAD_TEST_DATA) + "/" + name;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open test data " + path);
  return nlohmann::json::parse(in);
}

// Flattens nested JSON number arrays and records their shape.
inline void flatten(const nlohmann::json& j, std::vector<float>& values, std::vector<int64_t>& shape, size_t depth) {
  if (j.is_array()) {
    if (shape.size() <= depth) shape.push_back(static_cast<int64_t>(j.size()));
    for (const auto& e : j) flatten(e, values, shape, depth + 1);
  } else {
    values.push_back(j.get<float>());
  }
}

inline Tensor to_tensor(const nlohmann::json& j) {
  std::vector<float> values;
  std::vector<int64_t> shape;
  flatten(j, values, shape, 0);
  return Tensor::from(Shape(shape), values);
}

}  // namespace tapegrad::testing
