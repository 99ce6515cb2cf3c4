#include "tapegrad/layers/mixed_precision.h"

#include <mutex>

#include "tapegrad/core/error.h"

namespace tapegrad::mixed_precision {

namespace {
std::mutex g_mutex;
Policy& global() {
  static Policy policy("float32");
  return policy;
}
}  // namespace

Policy::Policy(const std::string& name) : name_(name) {
  if (name == "float32")
    compute_ = Dtype::float32;
  else if (name == "mixed_bfloat16")
    compute_ = Dtype::bfloat16;
  else
    fail("mixed_precision::Policy", "unknown dtype policy '" + name + "'; supported: float32, mixed_bfloat16");
}

void set_global_policy(const std::string& name) { set_global_policy(Policy(name)); }

void set_global_policy(const Policy& policy) {
  std::lock_guard<std::mutex> lock(g_mutex);
  global() = policy;
}

Policy global_policy() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return global();
}

}  // namespace tapegrad::mixed_precision
