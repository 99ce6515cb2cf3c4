#include "optim/options_check.h"

#include <cstdio>

#include "tapegrad/core/error.h"

namespace tapegrad {

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

void check_option(const std::string& where, bool ok, const std::string& message, float value) {
  if (!ok) fail(where, message + format_number(value));
}

}  // namespace tapegrad
