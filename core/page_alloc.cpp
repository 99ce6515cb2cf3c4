#include "core/page_alloc.h"

#include <cstdlib>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace tapegrad {

void* allocate_pages(size_t bytes) {
  constexpr size_t kLine = 64, kHugePage = size_t{2} << 20;
  if (bytes < kHugePage) return std::aligned_alloc(kLine, (bytes + kLine - 1) / kLine * kLine);
  void* p = std::aligned_alloc(kHugePage, (bytes + kHugePage - 1) / kHugePage * kHugePage);
#if defined(MADV_HUGEPAGE)
  if (p) madvise(p, bytes, MADV_HUGEPAGE);  // advice: a refusal leaves ordinary pages
#endif
  return p;
}

}  // namespace tapegrad
