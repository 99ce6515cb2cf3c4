#pragma once
// Keras' dtype policies (keras.mixed_precision): a policy names the dtype a layer's variables
// are stored in and the dtype it computes in.
//   "float32"         variables float32, compute float32 (the default);
//   "mixed_bfloat16"  variables float32 (master weights: optimizer state and checkpoints do not
//                     change), matrix products (Dense, convolutions, matmul) in bfloat16 with
//                     float32 accumulation. Softmax, losses, BatchNormalization's statistics,
//                     the optimizer step and every other op stay float32, as in Keras.
// A layer takes the global policy when it is constructed (or its own `.dtype` option), as
// Keras' layers do; changing the global policy later does not change existing layers.
// bfloat16 products run on the best instruction set this CPU has (tapegrad/core/bf16.h).
#include <string>

#include "tapegrad/autograd/compute_dtype.h"

namespace tapegrad::mixed_precision {

class Policy {
 public:
  // "float32" or "mixed_bfloat16"; anything else is an error listing those.
  explicit Policy(const std::string& name = "float32");
  const std::string& name() const { return name_; }
  Dtype compute_dtype() const { return compute_; }
  Dtype variable_dtype() const { return Dtype::float32; }
  bool operator==(const Policy& other) const { return name_ == other.name_; }

 private:
  std::string name_;
  Dtype compute_;
};

void set_global_policy(const std::string& name);
void set_global_policy(const Policy& policy);
Policy global_policy();

}  // namespace tapegrad::mixed_precision
