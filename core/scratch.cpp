#include "core/scratch.h"

#include "core/page_alloc.h"

#include <cstdlib>
#include <algorithm>
#include <new>

namespace tapegrad {

void ScratchBuffer::Free::operator()(float* p) const { std::free(p); }

float* ScratchBuffer::get(size_t n) {
  if (n > size_ || !data_) {
    constexpr size_t kLine = 64;
    const size_t bytes = (std::max<size_t>(n, 1) * sizeof(float) + kLine - 1) / kLine * kLine;
    data_.reset(static_cast<float*>(allocate_pages(bytes)));
    if (!data_) throw std::bad_alloc();
    size_ = bytes / sizeof(float);
  }
  return data_.get();
}

}  // namespace tapegrad
