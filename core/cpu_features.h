#pragma once
// What this CPU (and its operating system) lets kernels use, read once at run time with cpuid
// and xgetbv, so one build picks the best path on every machine it runs on. Internal.
namespace tapegrad::cpu {

struct Features {
  bool avx512f = false;      // AVX-512 Foundation, with the OS saving zmm state
  bool avx512_bf16 = false;  // VDPBF16PS / VCVTNE2PS2BF16 (Intel Cooper Lake+, AMD Zen 4+)
  bool amx_bf16 = false;     // AMX tiles with TDPBF16PS (Intel Sapphire Rapids+), per cpuid
};
const Features& features();

// Whether AMX tiles can be used by this process: the CPU has them and Linux granted the
// permission to use their state (arch_prctl ARCH_REQ_XCOMP_PERM for XTILEDATA, asked once; a
// refusal, e.g. an old kernel or a seccomp filter, gives false and the callers fall back).
bool amx_usable();

}  // namespace tapegrad::cpu
