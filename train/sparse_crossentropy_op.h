#pragma once
// The per-sample sparse categorical cross-entropy from logits as one fused op:
// out[i] = -log_softmax(logits)[i, ids[i]], with d out[i] / d logits[i] = softmax[i] - onehot(ids[i]).
// Stable for logits of any size (the log-softmax subtracts each row's max).
#include <cstdint>
#include <vector>

#include "tapegrad/autograd/variable.h"

namespace tapegrad::losses {

// logits (batch, classes), ids in [0, classes) (the caller validates them); returns (batch,).
Variable sparse_crossentropy_from_logits(const std::vector<int64_t>& ids, const Variable& logits);

}  // namespace tapegrad::losses
