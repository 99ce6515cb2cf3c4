#pragma once
// Readers for the published binary formats. Values stay as stored (pixels 0..255 as floats);
// scaling is a transform. A missing, truncated or malformed file throws tapegrad::Error naming
// the file, the byte offset and what was expected.
#include <string>

#include "tapegrad/core/tensor.h"
#include "tapegrad/data/dataset.h"

namespace tapegrad::data {

// CIFAR-10 binary version: data_batch_1.bin .. data_batch_5.bin and test_batch.bin in `dir`.
// Each record: 1 label byte, then 3072 bytes (1024 red, 1024 green, 1024 blue, row-major).
// Images come out as (n, 32, 32, 3).
Split cifar10(const std::string& dir);
// CIFAR-100 binary version: train.bin and test.bin; records carry a coarse and a fine label byte.
// label_mode "fine" (100 classes) or "coarse" (20).
Split cifar100(const std::string& dir, const std::string& label_mode = "fine");
// One CIFAR file: records of `label_bytes` label bytes + 3072 image bytes; uses label number
// `label_index`. Exposed for tests and custom subsets.
TensorDataset read_cifar_file(const std::string& path, int label_bytes, int label_index);

// An IDX file (MNIST's format), plain or gzip-compressed (by content, not by name). The result
// has the file's dims; unsigned bytes become 0..255.
Tensor read_idx(const std::string& path);
// MNIST-layout folder: train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz), t10k-... .
// Images come out as (n, 28, 28, 1). Debian's dataset-fashion-mnist installs Fashion-MNIST
// to kFashionMnistDir.
Split mnist_format(const std::string& dir);
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

}  // namespace tapegrad::data
