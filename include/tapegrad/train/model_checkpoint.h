#pragma once
// ModelCheckpoint (Keras' callback): saves at the end of epochs through train/checkpoint.h — a
// full checkpoint (weights, optimizer state, generators, epoch) by default, or the weights only.
// "{epoch}" in the path becomes the 1-based epoch number. With save_best_only it writes only when
// `monitor` improves; with keep_last = N it deletes all but the newest N files it wrote, never the
// best one (by `monitor`, when the logs have it).
#include <string>
#include <vector>

#include "tapegrad/train/callback.h"
#include "tapegrad/train/monitor.h"

namespace tapegrad {

struct ModelCheckpointOptions {
  std::string monitor = "val_loss";
  bool save_best_only = false;
  bool save_weights_only = false;
  MonitorMode mode = MonitorMode::automatic;
  int keep_last = 0;  // 0: keep every file
};

class ModelCheckpoint : public Callback {
 public:
  explicit ModelCheckpoint(std::string filepath, ModelCheckpointOptions options = {});
  void on_train_begin(Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  // Epochs (0-based) whose files were written, and the files that are still kept.
  const std::vector<int>& saved_epochs() const { return saved_; }
  const std::vector<std::string>& kept_files() const { return kept_; }
  // The file of the best epoch so far (empty before the monitor has a value).
  const std::string& best_file() const { return best_file_; }

 private:
  std::string filepath_;
  ModelCheckpointOptions options_;
  Monitor monitor_;
  double best_ = 0.0;
  std::string best_file_;
  std::vector<int> saved_;
  std::vector<std::string> kept_;
};

}  // namespace tapegrad
