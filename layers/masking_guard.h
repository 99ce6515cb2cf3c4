#pragma once
// Internal: masks do not flow between layers yet. Keras' Embedding(mask_zero=True) makes the
// recurrent layers after it skip the padded steps; here they would read the padding as data and
// give other results without a word. Models refuse that pairing until masking exists.
#include <memory>
#include <string>
#include <vector>

#include "tapegrad/layers/layer.h"

namespace tapegrad {

// An error naming `owner` when `layers` hold an Embedding with mask_zero and a recurrent layer.
void refuse_masks_nothing_reads(const std::vector<std::shared_ptr<Layer>>& layers, const std::string& owner);

}  // namespace tapegrad
