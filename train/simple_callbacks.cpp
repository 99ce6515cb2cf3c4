#include "tapegrad/train/simple_callbacks.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "tapegrad/core/error.h"
#include "tapegrad/distributed/distributed.h"

namespace tapegrad {

LearningRateScheduler::LearningRateScheduler(std::function<float(int, float)> schedule) : schedule_(std::move(schedule)) {
  if (!schedule_) fail("LearningRateScheduler", "the schedule function is empty");
}

void LearningRateScheduler::on_epoch_begin(int epoch, Logs&) {
  Optimizer& opt = *context().optimizer;
  opt.set_learning_rate(schedule_(epoch, opt.learning_rate()));
}

void LearningRateScheduler::on_epoch_end(int, Logs& logs) { logs.set("lr", context().optimizer->learning_rate()); }

void TerminateOnNaN::on_batch_end(int64_t batch, Logs& logs) {
  const auto loss = logs.get("loss");
  if (loss && !std::isfinite(*loss)) {
    std::cerr << "Batch " << batch << ": Invalid loss, terminating training\n";
    terminated_ = true;
    context().stop_training = true;
  }
}

CSVLogger::CSVLogger(std::string filename, char separator, bool append)
    : filename_(std::move(filename)), separator_(separator), append_(append) {}

// In a distributed job rank 0 writes the file (every rank has the same logs).
void CSVLogger::on_train_begin(Logs&) {
  if (!distributed::is_root()) return;
  // Appending to a file that already has rows: its header is already there.
  bool has_header = false;
  if (append_) {
    std::ifstream existing(filename_);
    has_header = existing && existing.peek() != std::ifstream::traits_type::eof();
  }
  file_.open(filename_, append_ ? std::ios::app : std::ios::trunc);
  if (!file_) fail("CSVLogger", "cannot open '" + filename_ + "' for writing");
  keys_.clear();
  if (has_header) keys_.push_back("");  // marks "header written"; the keys come with the first row
}

void CSVLogger::on_epoch_end(int epoch, Logs& logs) {
  if (!distributed::is_root()) return;
  const bool header_written = !keys_.empty();
  keys_.clear();
  for (const auto& [k, v] : logs.items()) keys_.push_back(k);
  std::sort(keys_.begin(), keys_.end());
  if (!header_written) {
    file_ << "epoch";
    for (const auto& k : keys_) file_ << separator_ << k;
    file_ << "\n";
  }
  file_ << epoch;
  for (const auto& k : keys_) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", *logs.get(k));
    file_ << separator_ << buf;
  }
  file_ << "\n";
  file_.flush();
}

void CSVLogger::on_train_end(Logs&) {
  if (file_.is_open()) file_.close();
}

}  // namespace tapegrad
