#include "tapegrad/core/bf16.h"

#include <atomic>
#include <string>

#include "core/cpu_features.h"
#include "tapegrad/core/dtype.h"
#include "tapegrad/core/error.h"

namespace tapegrad {

namespace {
// -1: not chosen (use the best); else a Bf16Isa.
std::atomic<int> g_chosen{-1};
}  // namespace

const char* dtype_name(Dtype dtype) { return dtype == Dtype::bfloat16 ? "bfloat16" : "float32"; }

const char* bf16_isa_name(Bf16Isa isa) {
  switch (isa) {
    case Bf16Isa::amx: return "amx";
    case Bf16Isa::avx512_bf16: return "avx512_bf16";
    default: return "emulated";
  }
}

bool bf16_isa_available(Bf16Isa isa) {
  switch (isa) {
    case Bf16Isa::amx: return cpu::amx_usable();
    case Bf16Isa::avx512_bf16: return cpu::features().avx512_bf16;
    default: return true;
  }
}

Bf16Isa best_bf16_isa() {
  static const Bf16Isa best = bf16_isa_available(Bf16Isa::amx)           ? Bf16Isa::amx
                              : bf16_isa_available(Bf16Isa::avx512_bf16) ? Bf16Isa::avx512_bf16
                                                                         : Bf16Isa::emulated;
  return best;
}

Bf16Isa bf16_isa() {
  const int chosen = g_chosen.load(std::memory_order_relaxed);
  return chosen < 0 ? best_bf16_isa() : static_cast<Bf16Isa>(chosen);
}

void set_bf16_isa(Bf16Isa isa) {
  if (!bf16_isa_available(isa))
    fail("set_bf16_isa", std::string("this CPU cannot run ") + bf16_isa_name(isa) + "; the best it has is " +
                             bf16_isa_name(best_bf16_isa()));
  g_chosen.store(static_cast<int>(isa), std::memory_order_relaxed);
}

}  // namespace tapegrad
