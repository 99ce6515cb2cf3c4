#pragma once
// A minimal weights file for ModelCheckpoint until the checkpoint issue brings the real format.
// Layout (little-endian, as the machine writes it):
//   "TGW1"                                   4-byte magic + version
//   uint32 count                             number of weights
//   per weight: uint32 name_length, name bytes, uint32 rank, int64 dims[rank], float32 data[numel]
// The file is written to "<path>.tmp" and renamed, so a crash never leaves half a file.
#include <string>

#include "layers/layer.h"

namespace tapegrad {

void save_weights(const std::string& path, const Layer& model);
// Checks the count, names and shapes against the model before changing any weight; a truncated
// or foreign file is an error naming the path and what is wrong.
void load_weights(const std::string& path, Layer& model);

}  // namespace tapegrad
