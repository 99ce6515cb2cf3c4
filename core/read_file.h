#pragma once
// One checked way to read a whole file: the library's readers (IDX, CIFAR, checkpoints) use it,
// so a missing path, a directory, or a read error is a tapegrad::Error naming the path, never a
// std::ios_base::failure or an abort. Internal: not installed.
#include <string>

namespace tapegrad {

// The bytes of the regular file at `path`; errors start with `op`.
std::string read_whole_file(const std::string& path, const std::string& op);

}  // namespace tapegrad
