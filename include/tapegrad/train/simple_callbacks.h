#pragma once
// Small Keras callbacks: LearningRateScheduler, TerminateOnNaN, CSVLogger.
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "tapegrad/train/callback.h"

namespace tapegrad {

// At each epoch's start, sets the optimizer's learning rate to schedule(epoch, current rate);
// adds "lr" to the epoch's logs.
class LearningRateScheduler : public Callback {
 public:
  explicit LearningRateScheduler(std::function<float(int epoch, float lr)> schedule);
  void on_epoch_begin(int epoch, Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;

 private:
  std::function<float(int, float)> schedule_;
};

// Stops training right after a batch whose running loss is NaN or infinite.
class TerminateOnNaN : public Callback {
 public:
  void on_batch_end(int64_t batch, Logs& logs) override;
  bool terminated() const { return terminated_; }

 private:
  bool terminated_ = false;
};

// Writes one CSV row per epoch: "epoch" then the logs' keys (sorted, as Keras), header first.
// append = true continues an existing file without a second header.
class CSVLogger : public Callback {
 public:
  explicit CSVLogger(std::string filename, char separator = ',', bool append = false);
  void on_train_begin(Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_end(Logs& logs) override;

 private:
  std::string filename_;
  char separator_;
  bool append_;
  std::ofstream file_;
  std::vector<std::string> keys_;
};

}  // namespace tapegrad
