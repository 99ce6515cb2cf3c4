// Layout changes: permute/transpose, slice and concat. Each copies into a new contiguous tensor.
#include <algorithm>
#include <cstring>
#include <string>

#include "tapegrad/core/error.h"
#include "tapegrad/core/parallel.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad {

namespace {
constexpr int64_t kGrain = 1 << 14;

std::string perm_str(const std::vector<int>& perm) {
  std::string s = "(";
  for (size_t i = 0; i < perm.size(); ++i) s += (i ? ", " : "") + std::to_string(perm[i]);
  return s + ")";
}
}  // namespace

Tensor permute(const Tensor& a, const std::vector<int>& perm) {
  if (!a.defined()) fail("permute", "input tensor is undefined");
  const int r = a.rank();
  if (static_cast<int>(perm.size()) != r)
    fail("permute", "permutation " + perm_str(perm) + " has " + std::to_string(perm.size()) + " entries for a tensor of shape " +
                        a.shape().str());
  std::vector<bool> seen(r, false);
  for (int p : perm) {
    if (p < 0 || p >= r || seen[p]) fail("permute", perm_str(perm) + " is not a permutation of the dims of " + a.shape().str());
    seen[p] = true;
  }
  Shape out_shape;
  for (int p : perm) out_shape.push_back(a.shape()[p]);
  Tensor out = Tensor::empty(out_shape);
  if (out.numel() == 0) return out;
  const auto in_strides = a.shape().strides();
  int64_t src_stride[kMaxDims];  // input stride of each output dim
  for (int i = 0; i < r; ++i) src_stride[i] = in_strides[perm[i]];
  const int64_t inner = r == 0 ? 1 : out_shape[r - 1];
  const int64_t inner_stride = r == 0 ? 1 : src_stride[r - 1];
  const int64_t rows = out.numel() / inner;
  const float* src = a.data();
  float* dst = out.data();
  parallel_for(0, rows, std::max<int64_t>(1, kGrain / inner), [&](int64_t r0, int64_t r1) {
    for (int64_t row = r0; row < r1; ++row) {
      int64_t rem = row, off = 0;
      for (int d = r - 2; d >= 0; --d) {
        off += (rem % out_shape[d]) * src_stride[d];
        rem /= out_shape[d];
      }
      const float* s = src + off;
      float* o = dst + row * inner;
      for (int64_t i = 0; i < inner; ++i) o[i] = s[i * inner_stride];
    }
  });
  return out;
}

Tensor transpose(const Tensor& a) {
  if (a.rank() < 2) fail("transpose", "expects at least 2 dims, got shape " + a.shape().str());
  std::vector<int> perm(a.rank());
  for (int i = 0; i < a.rank(); ++i) perm[i] = i;
  std::swap(perm[a.rank() - 1], perm[a.rank() - 2]);
  return permute(a, perm);
}

Tensor slice(const Tensor& a, int axis, int64_t start, int64_t stop, int64_t step) {
  if (!a.defined()) fail("slice", "input tensor is undefined");
  const int ax = normalize_axis(axis, a.rank(), "slice");
  if (step < 1) fail("slice", "step must be positive, got " + std::to_string(step));
  const int64_t n = a.shape()[ax];
  if (start < 0) start += n;
  if (stop < 0) stop += n;
  start = std::clamp<int64_t>(start, 0, n);
  stop = std::clamp<int64_t>(stop, 0, n);
  const int64_t count = stop > start ? (stop - start - 1) / step + 1 : 0;  // no overflow for huge steps
  Shape out_shape = a.shape();
  out_shape[ax] = count;
  Tensor out = Tensor::empty(out_shape);
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < ax; ++i) outer *= a.shape()[i];
  for (int i = ax + 1; i < a.rank(); ++i) inner *= a.shape()[i];
  const float* src = a.data();
  float* dst = out.data();
  parallel_for(0, outer * count, std::max<int64_t>(1, kGrain / std::max<int64_t>(inner, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t o = t / count, k = t % count;
      std::memcpy(dst + t * inner, src + (o * n + start + k * step) * inner, static_cast<size_t>(inner) * sizeof(float));
    }
  });
  return out;
}

Tensor unslice(const Tensor& part, const Shape& shape, int axis, int64_t start, int64_t step) {
  const int ax = normalize_axis(axis, shape.rank(), "unslice");
  Shape expect = shape;
  const int64_t n = shape[ax];
  if (start < 0) start += n;
  expect[ax] = part.rank() == shape.rank() ? part.shape()[ax] : -1;
  if (part.shape() != expect || start < 0 || step < 1 || (part.shape()[ax] > 0 && start + (part.shape()[ax] - 1) * step >= n))
    fail("unslice", "part " + part.shape().str() + " does not fit " + shape.str() + " at [" + std::to_string(start) +
                        "::" + std::to_string(step) + "] of axis " + std::to_string(ax));
  Tensor out = Tensor::zeros(shape);
  const int64_t count = part.shape()[ax];
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < ax; ++i) outer *= shape[i];
  for (int i = ax + 1; i < shape.rank(); ++i) inner *= shape[i];
  const float* src = part.data();
  float* dst = out.data();
  parallel_for(0, outer * count, std::max<int64_t>(1, kGrain / std::max<int64_t>(inner, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t o = t / count, k = t % count;
      std::memcpy(dst + (o * n + start + k * step) * inner, src + t * inner, static_cast<size_t>(inner) * sizeof(float));
    }
  });
  return out;
}

Tensor concat(const std::vector<Tensor>& parts, int axis) {
  if (parts.empty()) fail("concat", "needs at least one tensor");
  const Tensor& first = parts[0];
  if (!first.defined()) fail("concat", "input tensor 0 is undefined");
  const int ax = normalize_axis(axis, first.rank(), "concat");
  Shape out_shape = first.shape();
  out_shape[ax] = 0;
  for (size_t p = 0; p < parts.size(); ++p) {
    const Shape& s = parts[p].shape();
    bool ok = parts[p].defined() && s.rank() == first.rank();
    for (int i = 0; ok && i < s.rank(); ++i) ok = i == ax || s[i] == first.shape()[i];
    if (!ok)
      fail("concat", "tensor " + std::to_string(p) + " has shape " + s.str() + ", expected " + first.shape().str() +
                         " except along axis " + std::to_string(ax));
    out_shape[ax] += s[ax];
  }
  Tensor out = Tensor::empty(out_shape);
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < ax; ++i) outer *= out_shape[i];
  for (int i = ax + 1; i < out_shape.rank(); ++i) inner *= out_shape[i];
  const int64_t out_row = out_shape[ax] * inner;
  int64_t offset = 0;  // where this part starts inside each output row
  for (const Tensor& part : parts) {
    const int64_t row = part.shape()[ax] * inner;
    const float* src = part.data();
    float* dst = out.data() + offset;
    parallel_for(0, outer, std::max<int64_t>(1, kGrain / std::max<int64_t>(row, 1)), [&](int64_t lo, int64_t hi) {
      for (int64_t o = lo; o < hi; ++o)
        std::memcpy(dst + o * out_row, src + o * row, static_cast<size_t>(row) * sizeof(float));
    });
    offset += row;
  }
  return out;
}

}  // namespace tapegrad

namespace tapegrad {

Tensor take_rows(const Tensor& a, const std::vector<int64_t>& indices) {
  if (!a.defined() || a.rank() < 1) fail("take_rows", "expects a tensor of at least 1 dim, got " + a.shape().str());
  const int64_t n = a.shape()[0];
  Shape out_shape = a.shape();
  out_shape[0] = static_cast<int64_t>(indices.size());
  const int64_t row = n == 0 ? 0 : a.numel() / n;
  for (int64_t i : indices)
    if (i < 0 || i >= n) fail("take_rows", "index " + std::to_string(i) + " is out of range for " + a.shape().str());
  Tensor out = Tensor::empty(out_shape);
  for (size_t i = 0; i < indices.size(); ++i)
    std::memcpy(out.data() + static_cast<int64_t>(i) * row, a.data() + indices[i] * row, static_cast<size_t>(row) * sizeof(float));
  return out;
}

}  // namespace tapegrad
