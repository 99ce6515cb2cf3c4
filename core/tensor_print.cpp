// Printing, NumPy-like: nested brackets, the middle of long dims elided, the shape at the end.
#include <iomanip>
#include <ostream>
#include <sstream>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

namespace {

constexpr int64_t kEdgeItems = 3;    // shown at each end of a long dim
constexpr int64_t kMaxUnelided = 8;  // dims up to this length are printed whole

void print_dim(std::ostream& os, const float* data, const Shape& s, int dim, int64_t offset, int64_t stride_prod,
               int indent) {
  const int64_t n = s[dim];
  const int64_t stride = stride_prod / n;
  os << '[';
  for (int64_t i = 0; i < n; ++i) {
    if (n > kMaxUnelided && i == kEdgeItems) {
      os << (dim + 1 == s.rank() ? "..., " : "...,\n" + std::string(indent + 1, ' '));
      i = n - kEdgeItems;
    }
    if (dim + 1 == s.rank()) {
      os << std::setw(9) << data[offset + i];
    } else {
      print_dim(os, data, s, dim + 1, offset + i * stride, stride, indent + 1);
    }
    if (i + 1 < n) os << (dim + 1 == s.rank() ? ", " : ",\n" + std::string(indent + 1, ' '));
  }
  os << ']';
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << s.str(); }

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "tensor(undefined)";
  std::ostringstream body;
  body << std::setprecision(4);
  if (t.rank() == 0) {
    body << t.data()[0];
  } else if (t.numel() == 0) {
    body << "[]";
  } else {
    print_dim(body, t.data(), t.shape(), 0, 0, t.numel(), 7);
  }
  return os << "tensor(" << body.str() << ", shape=" << t.shape().str() << ")";
}

}  // namespace tapegrad
