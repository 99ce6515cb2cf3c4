#pragma once
// Internal: what the AMX kernels (core/gemm_bf16.cpp, autograd/conv_amx.cpp) share. Include only
// from .cpp files; call only where cpu::amx_usable() (through bf16_isa_available) said so.
#include <immintrin.h>

#include <cstdint>

// The target attribute lets a build without -march=native call the tile intrinsics
// (_tile_loadconfig and _tile_release are target-specific inline functions). The kernels also
// use AVX-512 (F, BW, VL, BF16) around the tiles: every CPU with AMX-BF16 has them, and
// cpu::amx_usable() checks AVX512-BF16 as well.
#define TAPEGRAD_AMX __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,avx512bf16")))

namespace tapegrad::amx {

// LDTILECFG's 64-byte operand, palette 1: per tile register its rows and bytes per row.
struct alignas(64) TileConfig {
  uint8_t palette = 1, start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};

  TileConfig& tile(int t, int tile_rows, int bytes_per_row) {
    rows[t] = static_cast<uint8_t>(tile_rows);
    colsb[t] = static_cast<uint16_t>(bytes_per_row);
    return *this;
  }
};

}  // namespace tapegrad::amx
