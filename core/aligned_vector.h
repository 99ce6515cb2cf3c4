#pragma once
// std::vector whose storage starts on a 64-byte cache line. For kernel buffers that are read in
// whole lines, e.g. AMX tile loads (16 rows of 64 bytes): from malloc's 16-byte alignment every
// row would straddle two lines and each load would touch twice the lines.
#include <cstddef>
#include <new>
#include <vector>

namespace tapegrad {

template <class T>
struct CacheLineAllocator {
  using value_type = T;
  static constexpr std::align_val_t kAlignment{64};

  CacheLineAllocator() = default;
  template <class U>
  CacheLineAllocator(const CacheLineAllocator<U>&) {}

  T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlignment)); }
  void deallocate(T* p, size_t) { ::operator delete(p, kAlignment); }

  template <class U>
  bool operator==(const CacheLineAllocator<U>&) const { return true; }
};

template <class T>
using AlignedVector = std::vector<T, CacheLineAllocator<T>>;

}  // namespace tapegrad
