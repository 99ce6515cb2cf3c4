#include "core/cpu_features.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace tapegrad::cpu {

namespace {

#if defined(__x86_64__)
bool bit(unsigned reg, int b) { return ((reg >> b) & 1u) != 0; }

unsigned long long xcr0() {
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<unsigned long long>(hi) << 32) | lo;
}

Features read_features() {
  Features f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !bit(c, 27)) return f;  // no OSXSAVE: no xgetbv
  // The OS saves opmask, upper zmm and zmm16-31 state (XCR0 bits 5-7) and ymm/xmm (1-2).
  const bool os_avx512 = (xcr0() & 0xE6) == 0xE6;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  f.avx512f = os_avx512 && bit(b, 16);
  f.amx_bf16 = bit(d, 22) && bit(d, 24);  // AMX-BF16 and AMX-TILE
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) f.avx512_bf16 = f.avx512f && bit(a, 5);
  return f;
}

bool request_amx() {
  // The AMX kernels convert with AVX512-BF16 around the tiles (every AMX-BF16 CPU has it).
  if (!features().amx_bf16 || !features().avx512_bf16) return false;
  constexpr long kGetPermission = 0x1022, kRequestPermission = 0x1023;  // ARCH_GET/REQ_XCOMP_PERM
  constexpr int kTileData = 18;                                         // XFEATURE_XTILEDATA
  if (syscall(SYS_arch_prctl, kRequestPermission, kTileData) != 0) return false;
  unsigned long long granted = 0;
  if (syscall(SYS_arch_prctl, kGetPermission, &granted) != 0) return false;
  return ((granted >> kTileData) & 1u) != 0;
}
#else
Features read_features() { return {}; }
bool request_amx() { return false; }
#endif

}  // namespace

const Features& features() {
  static const Features f = read_features();
  return f;
}

bool amx_usable() {
  static const bool usable = request_amx();  // thread-safe, once per process
  return usable;
}

}  // namespace tapegrad::cpu
