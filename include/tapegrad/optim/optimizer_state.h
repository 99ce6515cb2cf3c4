#pragma once
// OptimizerState: everything an optimizer needs to continue exactly where it stopped, as a plain
// value (no pointers into the optimizer) that a checkpoint can serialize field by field.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

struct OptimizerState {
  std::string optimizer;                    // "Adam": load_state() refuses another optimizer's state
  int64_t iterations = 0;                   // completed steps; also the schedules' position
  std::vector<std::string> slot_names;      // e.g. {"m", "v"}: the same slots for every parameter
  std::vector<std::string> parameter_names; // the keys: slots[i] belongs to parameter_names[i]
  std::vector<std::vector<Tensor>> slots;   // slots[parameter][slot]
  std::vector<double> globals;              // optimizer-wide accumulators (Nadam's momentum product)
  // The constant learning rate in effect (a callback such as ReduceLROnPlateau may have changed it);
  // empty when a schedule drives the rate (restoring `iterations` restores its position).
  std::optional<float> learning_rate;
};

}  // namespace tapegrad
