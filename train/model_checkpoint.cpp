#include "tapegrad/train/model_checkpoint.h"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "tapegrad/core/error.h"
#include "tapegrad/train/checkpoint.h"

namespace tapegrad {

ModelCheckpoint::ModelCheckpoint(std::string filepath, ModelCheckpointOptions options)
    : filepath_(std::move(filepath)), options_(std::move(options)), monitor_(options_.monitor, options_.mode, 0.0) {
  if (filepath_.empty()) fail("ModelCheckpoint", "the file path is empty");
  if (options_.keep_last < 0) fail("ModelCheckpoint", "keep_last must be >= 0, got " + std::to_string(options_.keep_last));
}

void ModelCheckpoint::on_train_begin(Logs&) {
  best_ = monitor_.worst();
  best_file_.clear();
  saved_.clear();
  kept_.clear();
}

void ModelCheckpoint::on_epoch_end(int epoch, Logs& logs) {
  // Keras warns and skips when the monitored value is missing; only save_best_only needs it.
  const auto current = logs.contains(options_.monitor) ? monitor_.value(logs, "ModelCheckpoint") : std::nullopt;
  const bool improved = current && monitor_.improves(*current, best_);
  if (options_.save_best_only && !improved) return;
  std::string path = filepath_;
  const std::string placeholder = "{epoch}";
  for (size_t at = path.find(placeholder); at != std::string::npos; at = path.find(placeholder))
    path.replace(at, placeholder.size(), std::to_string(epoch + 1));
  // A diverged model never replaces a good checkpoint (save_* would refuse it too).
  if (const std::string bad = first_non_finite_weight(*context().model); !bad.empty()) {
    std::cerr << "\nModelCheckpoint: epoch " << epoch + 1 << ": the weight '" << bad
              << "' holds NaN or Inf; '" << path << "' was not written\n";
    return;
  }
  if (options_.save_weights_only) {
    save_weights(path, *context().model);
  } else {
    TrainingProgress progress;
    progress.epoch = epoch + 1;
    save_checkpoint(path, {context().model, context().optimizer, nullptr, &progress, {}});
  }
  saved_.push_back(epoch);
  kept_.erase(std::remove(kept_.begin(), kept_.end(), path), kept_.end());  // rewritten in place
  kept_.push_back(path);
  if (improved) {
    best_ = *current;
    best_file_ = path;
  }
  if (options_.keep_last > 0) {
    // Drop the oldest files beyond the newest keep_last, sparing the best.
    std::vector<std::string> still;
    const size_t excess = kept_.size() > static_cast<size_t>(options_.keep_last) ? kept_.size() - options_.keep_last : 0;
    for (size_t i = 0; i < kept_.size(); ++i) {
      if (i < excess && kept_[i] != best_file_)
        std::remove(kept_[i].c_str());
      else
        still.push_back(kept_[i]);
    }
    kept_ = still;
  }
}

}  // namespace tapegrad
