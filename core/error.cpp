#include "tapegrad/core/error.h"

#include "core/last_error.h"

namespace tapegrad {

namespace {
thread_local std::string last_message;
}  // namespace

const std::string& last_error_message() { return last_message; }

void fail(const std::string& op, const std::string& message) {
  last_message = op + ": " + message;
  throw Error(last_message);
}

}  // namespace tapegrad
