#include "tapegrad/train/early_stopping.h"

#include <iostream>

#include "tapegrad/core/error.h"

namespace tapegrad {

EarlyStopping::EarlyStopping(EarlyStoppingOptions options)
    : options_(std::move(options)), monitor_(options_.monitor, options_.mode, options_.min_delta) {
  if (options_.patience < 0) fail("EarlyStopping", "patience must be >= 0, got " + std::to_string(options_.patience));
}

void EarlyStopping::on_train_begin(Logs&) {
  wait_ = 0;
  best_epoch_ = 0;
  best_ = monitor_.worst();
  stopped_epoch_.reset();
  best_weights_.clear();
}

void EarlyStopping::on_epoch_end(int epoch, Logs& logs) {
  const auto current = monitor_.value(logs, "EarlyStopping");
  if (!current || epoch < options_.start_from_epoch) return;
  if (options_.restore_best_weights && best_weights_.empty()) best_weights_ = get_weights(*context().model);
  ++wait_;
  if (monitor_.improves(*current, best_)) {
    best_ = *current;
    best_epoch_ = epoch;
    if (options_.restore_best_weights) best_weights_ = get_weights(*context().model);
    // Only a value that also beats the baseline resets the patience.
    if (!options_.baseline || monitor_.improves(*current, *options_.baseline)) wait_ = 0;
    return;
  }
  if (wait_ >= options_.patience && epoch > 0) {
    stopped_epoch_ = epoch;
    context().stop_training = true;
    if (options_.restore_best_weights && !best_weights_.empty()) set_weights(*context().model, best_weights_);
  }
}

}  // namespace tapegrad
