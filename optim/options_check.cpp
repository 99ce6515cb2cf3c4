#include "optim/options_check.h"

#include <cstdio>

namespace tapegrad {

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace tapegrad
