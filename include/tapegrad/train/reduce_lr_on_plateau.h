#pragma once
// ReduceLROnPlateau, Keras' rule: when `monitor` has not improved by more than min_delta for
// `patience` epochs, multiply the optimizer's learning rate by `factor` (not below min_lr), then
// wait `cooldown` epochs before counting again. Adds "lr" to the epoch's logs. The optimizer's
// learning rate must be a constant (a schedule already decides it; an error otherwise, as Keras).
#include "tapegrad/train/callback.h"
#include "tapegrad/train/monitor.h"

namespace tapegrad {

struct ReduceLROnPlateauOptions {
  std::string monitor = "val_loss";
  double factor = 0.1;
  int patience = 10;
  MonitorMode mode = MonitorMode::automatic;
  double min_delta = 1e-4;
  int cooldown = 0;
  double min_lr = 0.0;
};

class ReduceLROnPlateau : public Callback {
 public:
  explicit ReduceLROnPlateau(ReduceLROnPlateauOptions options = {});
  void on_train_begin(Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  // Epochs (0-based) at whose end the rate was reduced.
  const std::vector<int>& reductions() const { return reductions_; }

 private:
  ReduceLROnPlateauOptions options_;
  Monitor monitor_;
  double best_ = 0.0;
  int wait_ = 0, cooldown_counter_ = 0;
  std::vector<int> reductions_;
};

}  // namespace tapegrad
