#include "tapegrad/train/monitor.h"

#include <cmath>
#include <iostream>
#include <limits>

namespace tapegrad {

Monitor::Monitor(std::string key, MonitorMode mode, double min_delta)
    : key_(std::move(key)), min_delta_(std::fabs(min_delta)) {
  if (mode == MonitorMode::automatic)
    maximize_ = key_.find("acc") != std::string::npos || key_.find("auc") != std::string::npos;
  else
    maximize_ = mode == MonitorMode::max;
}

std::optional<double> Monitor::value(const Logs& logs, const char* who) const {
  auto v = logs.get(key_);
  if (!v) {
    std::string known;
    for (const auto& [k, x] : logs.items()) known += (known.empty() ? "" : ", ") + k;
    std::cerr << who << ": the monitored value '" << key_ << "' is not in the logs (" << known << "); skipping\n";
  }
  return v;
}

bool Monitor::improves(double current, double reference) const {
  return maximize_ ? current - min_delta_ > reference : current + min_delta_ < reference;
}

double Monitor::worst() const {
  return maximize_ ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
}

}  // namespace tapegrad
