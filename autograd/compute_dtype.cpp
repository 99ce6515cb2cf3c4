#include "tapegrad/autograd/compute_dtype.h"

namespace tapegrad {

namespace {
thread_local Dtype t_compute = Dtype::float32;
}

Dtype active_compute_dtype() { return t_compute; }

ComputeDtypeScope::ComputeDtypeScope(Dtype dtype) : previous_(t_compute) { t_compute = dtype; }
ComputeDtypeScope::~ComputeDtypeScope() { t_compute = previous_; }

}  // namespace tapegrad
