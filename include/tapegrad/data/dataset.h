#pragma once
// Dataset: random access to (sample, target) pairs of fixed shapes. TensorDataset holds them in
// two tensors whose first dim is the sample index.
#include <cstdint>
#include <memory>

#include "tapegrad/core/tensor.h"

namespace tapegrad::data {

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  // Per-sample shapes (no batch dim); the target is () for a class id.
  virtual Shape sample_shape() const = 0;
  virtual Shape target_shape() const = 0;
  // Copies sample i into x (sample_shape().numel() floats) and its target into y. Thread-safe.
  virtual void get(int64_t i, float* x, float* y) const = 0;
};

class TensorDataset : public Dataset {
 public:
  // x (n, ...), y (n, ...) with the same n.
  TensorDataset(Tensor x, Tensor y);
  int64_t size() const override { return x_.dim(0); }
  Shape sample_shape() const override { return x_.shape().drop(0, 1); }
  Shape target_shape() const override { return y_.shape().drop(0, 1); }
  void get(int64_t i, float* x, float* y) const override;
  const Tensor& x() const { return x_; }
  const Tensor& y() const { return y_; }
  // The first n samples (a view-like copy), for quick runs on a subset.
  std::shared_ptr<TensorDataset> head(int64_t n) const;

 private:
  Tensor x_, y_;
};

struct Split {
  std::shared_ptr<TensorDataset> train, test;
};

}  // namespace tapegrad::data
