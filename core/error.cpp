#include "tapegrad/core/error.h"

#include <mutex>

#include "core/last_error.h"

namespace tapegrad {

namespace {
// Global rather than per thread: an error raised in a TBB task (a data loader's batch) is
// rethrown on the thread that waits for it.
std::mutex last_mutex;
std::string last_message;
}  // namespace

std::string last_error_message() {
  std::lock_guard<std::mutex> lock(last_mutex);
  return last_message;
}

void throw_error(const std::string& message) {
  {
    std::lock_guard<std::mutex> lock(last_mutex);
    last_message = message;
  }
  throw Error(message);
}

void fail(const std::string& op, const std::string& message) { throw_error(op + ": " + message); }

}  // namespace tapegrad
