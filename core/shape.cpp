#include "tapegrad/core/shape.h"

#include <algorithm>

#include "tapegrad/core/error.h"

namespace tapegrad {

namespace {
// Extents are non-negative and their product fits in int64_t, so numel() never overflows.
void check_dims(const int64_t* begin, size_t n) {
  if (n > static_cast<size_t>(kMaxDims))
    fail("Shape", std::to_string(n) + " dims given, at most " + std::to_string(kMaxDims) + " supported");
  int64_t product = 1;
  for (size_t i = 0; i < n; ++i) {
    if (begin[i] < 0) fail("Shape", "negative extent " + std::to_string(begin[i]) + " at dim " + std::to_string(i));
    if (__builtin_mul_overflow(product, begin[i], &product))
      fail("Shape", extents_str(std::vector<int64_t>(begin, begin + n)) + " has more elements than a 64-bit count holds");
  }
}
}  // namespace

Shape::Shape(std::initializer_list<int64_t> dims) {
  check_dims(dims.begin(), dims.size());
  std::copy(dims.begin(), dims.end(), dims_.begin());
  rank_ = static_cast<int>(dims.size());
}

Shape::Shape(const std::vector<int64_t>& dims) {
  check_dims(dims.data(), dims.size());
  std::copy(dims.begin(), dims.end(), dims_.begin());
  rank_ = static_cast<int>(dims.size());
}

int64_t Shape::dim(int axis) const { return dims_[normalize_axis(axis, rank_, "Shape::dim")]; }

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < rank_; ++i) n *= dims_[i];
  return n;
}

void Shape::push_back(int64_t d) {
  if (rank_ == kMaxDims) fail("Shape", "cannot add a dim to " + str() + ": at most 8 dims");
  if (d < 0) fail("Shape", "negative extent " + std::to_string(d));
  int64_t product;
  if (__builtin_mul_overflow(numel(), d, &product))
    fail("Shape", "adding extent " + std::to_string(d) + " to " + str() + " overflows its element count");
  dims_[rank_++] = d;
}

std::array<int64_t, kMaxDims> Shape::strides() const {
  std::array<int64_t, kMaxDims> s{};
  int64_t acc = 1;
  for (int i = rank_ - 1; i >= 0; --i) {
    s[i] = acc;
    acc *= dims_[i];
  }
  return s;
}

Shape Shape::drop(int from, int to) const {
  Shape out;
  for (int i = 0; i < rank_; ++i)
    if (i < from || i >= to) out.dims_[out.rank_++] = dims_[i];
  return out;
}

bool Shape::operator==(const Shape& o) const {
  return rank_ == o.rank_ && std::equal(begin(), end(), o.begin());
}

std::string Shape::str() const {
  std::string s = "(";
  for (int i = 0; i < rank_; ++i) {
    if (i) s += ", ";
    s += std::to_string(dims_[i]);
  }
  if (rank_ == 1) s += ",";
  return s + ")";
}

std::string extents_str(const std::vector<int64_t>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + (v.size() == 1 ? ",)" : ")");
}

std::string with_batch_str(const Shape& per_sample) {
  std::string out = "(None";
  for (int64_t d : per_sample) out += ", " + std::to_string(d);
  return out + (per_sample.rank() == 0 ? ",)" : ")");
}

int normalize_axis(int axis, int rank, const char* op) {
  int a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    fail(op, "axis " + std::to_string(axis) + " is out of range for a tensor of " + std::to_string(rank) + " dims");
  return a;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const int rank = std::max(a.rank(), b.rank());
  std::vector<int64_t> out(rank);
  for (int i = 0; i < rank; ++i) {
    const int ia = a.rank() - rank + i, ib = b.rank() - rank + i;
    const int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1)
      fail(op, "shapes " + a.str() + " and " + b.str() + " do not broadcast (dim " + std::to_string(i) + ": " +
                   std::to_string(da) + " vs " + std::to_string(db) + ")");
    out[i] = da == 1 ? db : da;
  }
  return Shape(out);
}

}  // namespace tapegrad
