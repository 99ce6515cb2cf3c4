#pragma once
// bfloat16 (1 sign, 8 exponent, 7 mantissa bits: float32's range at 3 significant digits) and
// the instruction sets that multiply it, chosen at run time: AMX tiles (TDPBF16PS), else
// AVX512-BF16 (VDPBF16PS), else an emulation in float32 arithmetic on bf16-rounded inputs, so
// that every machine runs the same mixed-precision code paths.
#include <cstdint>
#include <cstring>

namespace tapegrad {

// float -> bf16 as the hardware converts (VCVTNE2PS2BF16): round to nearest even; denormals
// (inputs and results) flush to signed zero; NaN stays a (quiet) NaN.
inline uint16_t to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  if ((u & 0x7F800000u) == 0) return static_cast<uint16_t>((u >> 16) & 0x8000u);  // zero / denormal
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((u >> 16) | 0x0040u);  // NaN
  u += 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}
inline float from_bf16(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
// The float that bf16 rounding of f gives back.
inline float round_to_bf16(float f) { return from_bf16(to_bf16(f)); }

enum class Bf16Isa { emulated, avx512_bf16, amx };

// "emulated", "avx512_bf16", "amx".
const char* bf16_isa_name(Bf16Isa isa);
// Whether this CPU and OS can run it (emulated: always).
bool bf16_isa_available(Bf16Isa isa);
// The fastest one available.
Bf16Isa best_bf16_isa();
// The one bf16 kernels use: best_bf16_isa() unless set_bf16_isa chose another (to compare or
// test the paths). Setting one that is not available throws, naming what the CPU has.
Bf16Isa bf16_isa();
void set_bf16_isa(Bf16Isa isa);

}  // namespace tapegrad
