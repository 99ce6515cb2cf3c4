#pragma once
// The dtypes tapegrad computes in. Tensors hold float32; bfloat16 is a compute dtype: matrix
// products round their operands to bf16 and accumulate in float32 (tapegrad/core/bf16.h).
namespace tapegrad {

enum class Dtype { float32, bfloat16 };
const char* dtype_name(Dtype dtype);  // "float32", "bfloat16"

}  // namespace tapegrad
