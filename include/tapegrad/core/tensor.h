#pragma once
// Tensor: float32, row-major, always contiguous, up to 8 dims. Storage is shared between copies
// of a Tensor and 64-byte aligned; reshape() is a view of the same storage, every other op that
// changes the layout copies. The math lives in core/tensor_ops.h.
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <vector>

#include "tapegrad/core/shape.h"

namespace tapegrad {

class Rng;
namespace detail {
struct Storage;  // the buffer and its version counter (core/tensor.cpp)
}

class Tensor {
 public:
  // An undefined tensor (no storage); defined() is false. Used for "no gradient yet".
  Tensor() = default;

  // Uninitialized storage of the given shape.
  static Tensor empty(const Shape& shape);
  static Tensor zeros(const Shape& shape);
  static Tensor ones(const Shape& shape);
  static Tensor full(const Shape& shape, float value);
  static Tensor scalar(float value);
  // Copies `values`, which must hold shape.numel() floats.
  static Tensor from(const Shape& shape, const std::vector<float>& values);
  static Tensor from(const Shape& shape, std::initializer_list<float> values);
  // [start, stop) in steps of `step`, as numpy.arange.
  static Tensor arange(float start, float stop, float step = 1.0f);
  static Tensor arange(int64_t n) { return arange(0.0f, static_cast<float>(n)); }
  // Random tensors from a seeded, serializable generator (see core/rng.h).
  static Tensor randn(const Shape& shape, Rng& rng, float mean = 0.0f, float stddev = 1.0f);
  static Tensor rand(const Shape& shape, Rng& rng, float low = 0.0f, float high = 1.0f);

  bool defined() const { return data_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  int64_t dim(int axis) const { return shape_.dim(axis); }
  int64_t numel() const { return shape_.numel(); }

  // Writing through data() is not counted as an in-place change (see version()): code that
  // changes a tensor another op may have saved calls mark_modified() afterwards, as the
  // optimizers do.
  float* data() { return data_; }
  const float* data() const { return data_; }
  // Element by multi-index, bounds-checked (for tests and small code, not for kernels).
  float& at(std::initializer_list<int64_t> index);
  float at(std::initializer_list<int64_t> index) const;
  // The value of a one-element tensor.
  float item() const;
  std::vector<float> to_vector() const;

  // A view with a new shape over the same storage; one extent may be -1 (inferred).
  Tensor reshape(const std::vector<int64_t>& shape) const;
  Tensor reshape(std::initializer_list<int64_t> shape) const { return reshape(std::vector<int64_t>(shape)); }
  Tensor reshape(const Shape& shape) const;
  // A deep copy with its own storage.
  Tensor clone() const;
  // Sets every element (in place, visible through every view of the storage).
  void fill_(float value);
  // Copies src's values into this tensor's storage; the shapes must be equal (a reshape first
  // says that a different order of the same elements is meant).
  void copy_from(const Tensor& src);
  bool shares_storage(const Tensor& other) const { return storage_ == other.storage_; }
  // Whether this tensor holds the only reference to its storage (no other tensor or view has it).
  bool owns_storage_alone() const { return storage_ && storage_.use_count() == 1; }

  // How many times the storage was changed in place (fill_, copy_from, axpy_, an optimizer's
  // update, ...), shared by every view of it. An op records the version of each tensor it saves
  // and backward() refuses to use one that has changed since: its gradient would be wrong.
  uint64_t version() const;
  // Counts an in-place change made through data().
  void mark_modified();

 private:
  Tensor(Shape shape, std::shared_ptr<detail::Storage> storage);
  int64_t offset_of(std::initializer_list<int64_t> index) const;

  Shape shape_;
  std::shared_ptr<detail::Storage> storage_;
  float* data_ = nullptr;  // storage_'s buffer, cached: data() is on every kernel's path
};

// Gives the buffers kept for reuse by finished tensors back to the system (large buffers are
// cached, up to 1 GiB, so training steps do not fault fresh pages in every time).
void release_cached_memory();

// Uninitialised storage for n int32 indices (argmax positions and the like) from the same pool,
// for ops that keep them from the forward to the backward pass of every training step.
std::shared_ptr<int32_t[]> allocate_indices(int64_t n);

// Prints values with their shape, NumPy-like, eliding the middle of large dims.
std::ostream& operator<<(std::ostream& os, const Tensor& t);
std::ostream& operator<<(std::ostream& os, const Shape& s);

}  // namespace tapegrad
