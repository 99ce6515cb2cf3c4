#include "train/class_ids.h"

#include <cmath>

#include "tapegrad/core/error.h"

namespace tapegrad {

std::vector<int64_t> checked_class_ids(const Tensor& y_true, int64_t count, int64_t classes, const std::string& op) {
  std::vector<int64_t> ids(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const float v = y_true.data()[i];
    if (!(v >= 0.0f) || v >= static_cast<float>(classes) || v != std::floor(v))
      fail(op, "label " + std::to_string(v) + " of sample " + std::to_string(i) + " is not a class id in [0, " +
                   std::to_string(classes) + ")");
    ids[static_cast<size_t>(i)] = static_cast<int64_t>(v);
  }
  return ids;
}

}  // namespace tapegrad
