#pragma once
// splitmix64 (Steele, Lea & Flood 2014): one 64-bit value in, a well-mixed one out. Decorrelates
// structured inputs (seed, epoch, position, rank) into independent generator keys.
#include <cstdint>

namespace tapegrad {

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace tapegrad
