#pragma once
// Monitor: the "is this epoch better?" rule that EarlyStopping, ReduceLROnPlateau and
// ModelCheckpoint share, with Keras' mode "auto": maximise names containing "acc" or "auc"
// (accuracy, val_auc, ...), minimise everything else (losses, errors).
#include <optional>
#include <string>

#include "tapegrad/train/logs.h"

namespace tapegrad {

enum class MonitorMode { automatic, min, max };

class Monitor {
 public:
  Monitor(std::string key, MonitorMode mode, double min_delta);
  const std::string& key() const { return key_; }
  bool maximize() const { return maximize_; }
  // The monitored value, or nothing (and a warning on stderr, as Keras) when the logs lack it.
  std::optional<double> value(const Logs& logs, const char* who) const;
  // current beats reference by more than min_delta.
  bool improves(double current, double reference) const;
  // The starting "best": -inf when maximising, +inf otherwise.
  double worst() const;

 private:
  std::string key_;
  bool maximize_;
  double min_delta_;
};

}  // namespace tapegrad
