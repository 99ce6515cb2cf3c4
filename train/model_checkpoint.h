#pragma once
// ModelCheckpoint: saves the model's weights at the end of every epoch, or with save_best_only
// only when `monitor` improves. "{epoch}" in the path becomes the 1-based epoch number. The file
// format is train/weights_file.h's (to be replaced by the checkpoint issue's format).
#include <string>

#include "train/callback.h"
#include "train/monitor.h"

namespace tapegrad {

struct ModelCheckpointOptions {
  std::string monitor = "val_loss";
  bool save_best_only = false;
  MonitorMode mode = MonitorMode::automatic;
};

class ModelCheckpoint : public Callback {
 public:
  explicit ModelCheckpoint(std::string filepath, ModelCheckpointOptions options = {});
  void on_train_begin(Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  // Epochs (0-based) whose weights were written.
  const std::vector<int>& saved_epochs() const { return saved_; }

 private:
  std::string filepath_;
  ModelCheckpointOptions options_;
  Monitor monitor_;
  double best_ = 0.0;
  std::vector<int> saved_;
};

}  // namespace tapegrad
