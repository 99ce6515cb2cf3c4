#pragma once
// How a loss turns its per-sample values into what the caller gets (Keras' losses_utils):
//   sum_over_batch_size (the default): sum(w * l) / number of per-sample values
//   sum:                                sum(w * l)
//   none:                               w * l, one value per sample
// Sample weights w broadcast over the per-sample values: a scalar, one weight per sample
// ((batch,) or (batch, 1)), or the per-sample shape itself. Keras divides by the number of
// values, not by the sum of the weights; so does this.
#include <string>

#include "tapegrad/autograd/variable.h"

namespace tapegrad::losses {

enum class Reduction { sum_over_batch_size, sum, none };

struct Reduce {
  Reduction reduction = Reduction::sum_over_batch_size;
  Tensor sample_weight = {};  // undefined: every weight 1
};

// "sum_over_batch_size", "sum", "none".
std::string to_string(Reduction r);

// Weights and reduces `per_sample` (the loss function's output, the last axis already reduced).
// `op` names the loss in errors.
Variable reduce_loss(const Variable& per_sample, const Reduce& reduce, const char* op);

}  // namespace tapegrad::losses
