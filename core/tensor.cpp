#include "tapegrad/core/tensor.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "core/page_alloc.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/rng.h"

namespace tapegrad {

namespace {

// Large tensor buffers are kept for reuse instead of going back to the C library, which would
// hand them to the kernel (munmap) and fault them in again on the next training step. Sizes are
// rounded to 8 classes per power of two (at most 12.5% slack); at most kMaxCachedBytes are kept.
class StoragePool {
 public:
  static constexpr size_t kMinBytes = 256 * 1024;
  static constexpr size_t kMaxCachedBytes = size_t{1} << 30;

  static StoragePool& instance() {
    static StoragePool* pool = new StoragePool;  // never destroyed: tensors may outlive statics
    return *pool;
  }
  static size_t size_class(size_t bytes) {
    size_t step = size_t{1} << (63 - __builtin_clzll(bytes));  // the power of two at or below
    step = std::max<size_t>(step / 8, 64);
    return (bytes + step - 1) / step * step;
  }
  void* take(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(bytes);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cached_ -= bytes;
        return p;
      }
    }
    void* p = allocate_pages(bytes);
    if (!p) {
      release();  // give the cache back and try once more
      p = allocate_pages(bytes);
      if (!p) throw std::bad_alloc();
    }
    return p;
  }
  void give(void* p, size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (cached_ + bytes <= kMaxCachedBytes) {
        free_[bytes].push_back(p);
        cached_ += bytes;
        return;
      }
    }
    std::free(p);
  }
  void release() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [size, blocks] : free_)
      for (void* p : blocks) std::free(p);
    free_.clear();
    cached_ = 0;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  size_t cached_ = 0;
};

constexpr size_t kAlignment = 64;

// Uninitialised, 64-byte-aligned storage for n values of T; large buffers come from the pool.
template <class T>
std::shared_ptr<T[]> allocate_array(int64_t n) {
  // Round up so aligned_alloc's size is a multiple of the alignment; never zero bytes.
  size_t bytes = std::max<size_t>(static_cast<size_t>(n) * sizeof(T), kAlignment);
  bytes = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  if (bytes >= StoragePool::kMinBytes) {
    const size_t rounded = StoragePool::size_class(bytes);
    void* p = StoragePool::instance().take(rounded);
    return std::shared_ptr<T[]>(static_cast<T*>(p), [rounded](T* q) { StoragePool::instance().give(q, rounded); });
  }
  void* p = std::aligned_alloc(kAlignment, bytes);
  if (!p) throw std::bad_alloc();
  return std::shared_ptr<T[]>(static_cast<T*>(p), [](T* q) { std::free(q); });
}

}  // namespace

namespace detail {
// A tensor's buffer and its in-place version counter, in one allocation with the control block.
struct Storage {
  std::shared_ptr<float[]> buffer;
  std::atomic<uint64_t> version{0};
  explicit Storage(std::shared_ptr<float[]> b) : buffer(std::move(b)) {}
};
}  // namespace detail

namespace {
std::shared_ptr<detail::Storage> allocate(int64_t n) {
  return std::make_shared<detail::Storage>(allocate_array<float>(n));
}
}  // namespace

Tensor::Tensor(Shape shape, std::shared_ptr<detail::Storage> storage)
    : shape_(std::move(shape)), storage_(std::move(storage)), data_(storage_ ? storage_->buffer.get() : nullptr) {}

uint64_t Tensor::version() const { return storage_ ? storage_->version.load(std::memory_order_relaxed) : 0; }

void Tensor::mark_modified() {
  if (storage_) storage_->version.fetch_add(1, std::memory_order_relaxed);
}

void release_cached_memory() { StoragePool::instance().release(); }

std::shared_ptr<int32_t[]> allocate_indices(int64_t n) { return allocate_array<int32_t>(n); }

Tensor Tensor::empty(const Shape& shape) { return Tensor(shape, allocate(shape.numel())); }

Tensor Tensor::zeros(const Shape& shape) { return full(shape, 0.0f); }
Tensor Tensor::ones(const Shape& shape) { return full(shape, 1.0f); }

Tensor Tensor::full(const Shape& shape, float value) {
  Tensor t = empty(shape);
  t.fill_(value);
  return t;
}

Tensor Tensor::scalar(float value) { return full(Shape{}, value); }

Tensor Tensor::from(const Shape& shape, const std::vector<float>& values) {
  if (static_cast<int64_t>(values.size()) != shape.numel())
    fail("Tensor::from", std::to_string(values.size()) + " values given for shape " + shape.str() + ", expected " +
                             std::to_string(shape.numel()));
  Tensor t = empty(shape);
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

Tensor Tensor::from(const Shape& shape, std::initializer_list<float> values) {
  return from(shape, std::vector<float>(values));
}

Tensor Tensor::arange(float start, float stop, float step) {
  if (step == 0.0f || !std::isfinite(start) || !std::isfinite(stop) || !std::isfinite(step))
    fail("Tensor::arange", "start, stop and step must be finite and step non-zero");
  const double n = std::ceil((static_cast<double>(stop) - start) / step);
  const int64_t count = n > 0 ? static_cast<int64_t>(n) : 0;
  Tensor t = empty(Shape{count});
  for (int64_t i = 0; i < count; ++i) t.data()[i] = static_cast<float>(start + static_cast<double>(step) * i);
  return t;
}

Tensor Tensor::randn(const Shape& shape, Rng& rng, float mean, float stddev) {
  Tensor t = empty(shape);
  rng.fill_normal(t.data(), t.numel(), mean, stddev);
  return t;
}

Tensor Tensor::rand(const Shape& shape, Rng& rng, float low, float high) {
  if (!(low < high)) fail("Tensor::rand", "low must be below high");
  Tensor t = empty(shape);
  rng.fill_uniform(t.data(), t.numel(), low, high);
  return t;
}

int64_t Tensor::offset_of(std::initializer_list<int64_t> index) const {
  if (!defined()) fail("Tensor::at", "tensor is undefined");
  if (static_cast<int>(index.size()) != rank())
    fail("Tensor::at", std::to_string(index.size()) + " indices given for a tensor of shape " + shape_.str());
  int64_t offset = 0;
  int d = 0;
  for (int64_t i : index) {
    if (i < 0 || i >= shape_[d])
      fail("Tensor::at", "index " + std::to_string(i) + " is out of range for dim " + std::to_string(d) + " of shape " +
                             shape_.str());
    offset = offset * shape_[d] + i;
    ++d;
  }
  return offset;
}

float& Tensor::at(std::initializer_list<int64_t> index) { return data()[offset_of(index)]; }
float Tensor::at(std::initializer_list<int64_t> index) const { return data()[offset_of(index)]; }

float Tensor::item() const {
  if (!defined() || numel() != 1) fail("Tensor::item", "expects a one-element tensor, got shape " + shape_.str());
  return data()[0];
}

std::vector<float> Tensor::to_vector() const {
  if (!defined()) return {};
  return std::vector<float>(data(), data() + numel());
}

Tensor Tensor::reshape(const std::vector<int64_t>& dims) const {
  std::vector<int64_t> out = dims;
  int inferred = -1;
  int64_t known = 1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      if (inferred >= 0) fail("reshape", "only one extent may be -1 when reshaping " + shape_.str());
      inferred = static_cast<int>(i);
    } else if (out[i] < 0) {
      fail("reshape", "negative extent " + std::to_string(out[i]) + " requested for a tensor of shape " + shape_.str());
    } else {
      known *= out[i];
    }
  }
  if (inferred >= 0) {
    if (known == 0 || numel() % known != 0)
      fail("reshape", "cannot infer the -1 extent to reshape " + shape_.str() + " (" + std::to_string(numel()) +
                          " elements)");
    out[inferred] = numel() / known;
  }
  return reshape(Shape(out));
}

Tensor Tensor::reshape(const Shape& shape) const {
  if (shape.numel() != numel())
    fail("reshape", "cannot reshape " + shape_.str() + " (" + std::to_string(numel()) + " elements) to " + shape.str() +
                        " (" + std::to_string(shape.numel()) + " elements)");
  return Tensor(shape, storage_);
}

Tensor Tensor::clone() const {
  if (!defined()) return {};
  Tensor t = empty(shape_);
  std::memcpy(t.data(), data(), static_cast<size_t>(numel()) * sizeof(float));
  return t;
}

void Tensor::fill_(float value) {
  std::fill(data(), data() + numel(), value);
  mark_modified();
}

void Tensor::copy_from(const Tensor& src) {
  if (!defined() || !src.defined()) fail("Tensor::copy_from", "source or destination is undefined");
  if (src.shape() != shape_)
    fail("Tensor::copy_from", "source " + src.shape().str() + " does not match the destination's shape " + shape_.str() +
                                  " (reshape the source first if the same elements in this order are meant)");
  if (src.data() != data()) std::memcpy(data(), src.data(), static_cast<size_t>(numel()) * sizeof(float));
  mark_modified();
}

}  // namespace tapegrad
