#include "tapegrad/data/dataset.h"

#include <algorithm>
#include <cstring>

#include "tapegrad/core/error.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad::data {

TensorDataset::TensorDataset(Tensor x, Tensor y) : x_(std::move(x)), y_(std::move(y)) {
  if (!x_.defined() || !y_.defined() || x_.rank() < 1 || y_.rank() < 1 || x_.dim(0) != y_.dim(0))
    fail("TensorDataset", "x " + (x_.defined() ? x_.shape().str() : std::string("undefined")) + " and y " +
                              (y_.defined() ? y_.shape().str() : std::string("undefined")) +
                              " must have the same number of samples in dim 0");
}

void TensorDataset::get(int64_t i, float* x, float* y) const {
  if (i < 0 || i >= size()) fail("TensorDataset::get", "index " + std::to_string(i) + " is out of range for " + std::to_string(size()) + " samples");
  const int64_t xs = x_.numel() / std::max<int64_t>(1, size()), ys = y_.numel() / std::max<int64_t>(1, size());
  std::memcpy(x, x_.data() + i * xs, static_cast<size_t>(xs) * sizeof(float));
  std::memcpy(y, y_.data() + i * ys, static_cast<size_t>(ys) * sizeof(float));
}

std::shared_ptr<TensorDataset> TensorDataset::head(int64_t n) const {
  n = std::clamp<int64_t>(n, 0, size());
  return std::make_shared<TensorDataset>(slice(x_, 0, 0, n), slice(y_, 0, 0, n));
}

}  // namespace tapegrad::data
