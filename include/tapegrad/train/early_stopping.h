#pragma once
// EarlyStopping, Keras' rule: stop when `monitor` has not improved by more than min_delta for
// `patience` epochs (never after the first epoch); optionally restore the weights of the best
// epoch when stopping. A baseline must be beaten for the patience counter to reset.
#include <optional>

#include "tapegrad/train/callback.h"
#include "tapegrad/train/monitor.h"

namespace tapegrad {

struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  double min_delta = 0.0;
  int patience = 0;
  MonitorMode mode = MonitorMode::automatic;
  std::optional<double> baseline = std::nullopt;
  bool restore_best_weights = false;
  int start_from_epoch = 0;  // epochs before this one are not judged (warm-up)
};

class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(EarlyStoppingOptions options = {});
  void on_train_begin(Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;

  // The epoch that stopped training (0-based), if it stopped; the best epoch seen.
  std::optional<int> stopped_epoch() const { return stopped_epoch_; }
  int best_epoch() const { return best_epoch_; }
  double best() const { return best_; }

 private:
  EarlyStoppingOptions options_;
  Monitor monitor_;
  int wait_ = 0, best_epoch_ = 0;
  double best_ = 0.0;
  std::optional<int> stopped_epoch_;
  std::vector<Tensor> best_weights_;
};

}  // namespace tapegrad
