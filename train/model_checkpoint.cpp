#include "train/model_checkpoint.h"

#include "train/weights_file.h"

namespace tapegrad {

ModelCheckpoint::ModelCheckpoint(std::string filepath, ModelCheckpointOptions options)
    : filepath_(std::move(filepath)), options_(std::move(options)), monitor_(options_.monitor, options_.mode, 0.0) {}

void ModelCheckpoint::on_train_begin(Logs&) {
  best_ = monitor_.worst();
  saved_.clear();
}

void ModelCheckpoint::on_epoch_end(int epoch, Logs& logs) {
  if (options_.save_best_only) {
    const auto current = monitor_.value(logs, "ModelCheckpoint");
    if (!current || !monitor_.improves(*current, best_)) return;
    best_ = *current;
  }
  std::string path = filepath_;
  const std::string placeholder = "{epoch}";
  for (size_t at = path.find(placeholder); at != std::string::npos; at = path.find(placeholder))
    path.replace(at, placeholder.size(), std::to_string(epoch + 1));
  save_weights(path, *context().model);
  saved_.push_back(epoch);
}

}  // namespace tapegrad
