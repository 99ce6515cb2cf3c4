#pragma once
// The one exception type of tapegrad. Messages name the op, the shapes and what was expected,
// e.g. "matmul: a (2, 3) and b (4, 5): inner dimensions 3 and 4 differ".
#include <stdexcept>
#include <string>

namespace tapegrad {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Throws Error(op + ": " + message). Kept out of line so call sites stay small.
[[noreturn]] void fail(const std::string& op, const std::string& message);

}  // namespace tapegrad
