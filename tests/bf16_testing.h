#pragma once
// What the mixed-precision tests share: the bf16 instruction sets this machine can run, and the
// error measure they bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "tapegrad/core/bf16.h"
#include "tapegrad/core/tensor.h"

namespace tapegrad::testing {

// Every Bf16Isa this CPU and OS can run, the emulation first.
inline std::vector<Bf16Isa> available_bf16_isas() {
  std::vector<Bf16Isa> isas;
  for (Bf16Isa isa : {Bf16Isa::emulated, Bf16Isa::avx512_bf16, Bf16Isa::amx})
    if (bf16_isa_available(isa)) isas.push_back(isa);
  return isas;
}

// Largest |got - want| over the largest |want|.
inline double relative_difference(const Tensor& got, const Tensor& want) {
  EXPECT_EQ(got.shape(), want.shape());
  double worst = 0.0, scale = 1e-30;
  for (int64_t i = 0; i < got.numel(); ++i) {
    worst = std::max(worst, static_cast<double>(std::fabs(got.data()[i] - want.data()[i])));
    scale = std::max(scale, static_cast<double>(std::fabs(want.data()[i])));
  }
  return worst / scale;
}

}  // namespace tapegrad::testing
