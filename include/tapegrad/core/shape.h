#pragma once
// Shape: the extents of a tensor, up to kMaxDims dims, stored inline (no heap allocation).
#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace tapegrad {

constexpr int kMaxDims = 8;

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(const std::vector<int64_t>& dims);

  int rank() const { return rank_; }
  int64_t operator[](int i) const { return dims_[i]; }
  int64_t& operator[](int i) { return dims_[i]; }
  // Dimension with Python-style negative indexing; throws on an out-of-range axis.
  int64_t dim(int axis) const;
  int64_t numel() const;
  std::vector<int64_t> to_vector() const { return {dims_.begin(), dims_.begin() + rank_}; }
  const int64_t* begin() const { return dims_.data(); }
  const int64_t* end() const { return dims_.data() + rank_; }

  void push_back(int64_t d);
  // Row-major strides, in elements.
  std::array<int64_t, kMaxDims> strides() const;
  // Shape without dims [from, to).
  Shape drop(int from, int to) const;

  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }

  // "(2, 3)", as NumPy prints it; "()" for a scalar.
  std::string str() const;

 private:
  std::array<int64_t, kMaxDims> dims_{};
  int rank_ = 0;
};

// Any list of extents as a tuple, "(3, -1)"; for lists that are not valid shapes.
std::string extents_str(const std::vector<int64_t>& dims);

// A per-sample shape with Keras' batch placeholder in front: (16,) -> "(None, 16)".
std::string with_batch_str(const Shape& per_sample);

// Maps a possibly negative axis into [0, rank); throws naming `op` when it is out of range.
int normalize_axis(int axis, int rank, const char* op);

// NumPy broadcasting of two shapes; throws naming `op` and both shapes when they do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace tapegrad
