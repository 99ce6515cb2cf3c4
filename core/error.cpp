#include "tapegrad/core/error.h"

namespace tapegrad {

void fail(const std::string& op, const std::string& message) { throw Error(op + ": " + message); }

}  // namespace tapegrad
