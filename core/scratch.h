#pragma once
// A growable scratch array of floats aligned to the 64-byte cache line, for kernels that keep one
// per thread (thread_local) across calls so steady-state training does not allocate. The
// alignment matters: a 64-byte vector access that straddles two lines costs two.
#include <cstddef>
#include <memory>

namespace tapegrad {

class ScratchBuffer {
 public:
  // At least n floats; the contents are unspecified (lost when the buffer grows).
  float* get(size_t n);

 private:
  struct Free {
    void operator()(float* p) const;
  };
  std::unique_ptr<float[], Free> data_;
  size_t size_ = 0;
};

}  // namespace tapegrad
