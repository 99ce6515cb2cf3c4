#pragma once
// Integer class ids from a float label tensor, shared by the sparse losses and metrics.
#include <cstdint>
#include <string>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

// y_true's first `count` values as integers, each checked to be a whole number in
// [0, classes); throws naming `op`, the sample and the value otherwise. The caller checks the
// shape (losses and metrics accept slightly different ones).
std::vector<int64_t> checked_class_ids(const Tensor& y_true, int64_t count, int64_t classes, const std::string& op);

}  // namespace tapegrad
