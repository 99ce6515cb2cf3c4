#pragma once
// Small helpers the optimizers share for building groups and wording option errors.
#include <string>
#include <vector>

#include "tapegrad/optim/optimizer.h"

namespace tapegrad {

// All parameters in one group with the optimizer's own learning rate and weight decay.
inline std::vector<ParamGroup> single_group(std::vector<ParameterPtr> parameters) {
  std::vector<ParamGroup> groups(1);
  groups[0].parameters = std::move(parameters);
  return groups;
}

// A float as a short decimal ("0.5", "1e-07"), for error messages.
std::string format_number(double v);

// Throws `where: message<value>` unless ok: the optimizers' option checks, for the optimizer's own
// values and each group's.
void check_option(const std::string& where, bool ok, const std::string& message, float value);

}  // namespace tapegrad
