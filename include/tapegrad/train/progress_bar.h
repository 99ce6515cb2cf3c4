#pragma once
// ProgressBar: Keras' progress display for fit() (its ProgbarLogger). Each epoch starts with
// "Epoch 3/10". On a terminal, every batch redraws one line in place ('\r'):
//    12/32 [=======>......................] - ETA: 2s - loss: 0.4512 - accuracy: 0.8125
// kept within the terminal width so that the redraw works. When the output is not a terminal
// (a log file, a pipe), or with per_epoch_only, only the epoch's final line is printed:
//    32/32 [==============================] - 1s 31ms/step - loss: 0.4012 - val_loss: 0.4210
// Values print as Keras does: 4 decimals, or scientific notation below 1e-3.
#include <functional>
#include <optional>
#include <iosfwd>
#include <string>

#include "tapegrad/train/callback.h"

namespace tapegrad {

struct ProgressBarOptions {
  std::ostream* out = nullptr;       // std::cout when null
  std::optional<bool> terminal = {}; // default: whether stdout is a terminal (when out is std::cout)
  int terminal_width = 0;            // columns; 0: $COLUMNS, else 80
  int bar_width = 30;
  bool per_epoch_only = false;       // fit's verbose = 2: one line per epoch even on a terminal
  std::function<double()> clock = {};  // seconds, for tests; a steady clock by default
};

class ProgressBar : public Callback {
 public:
  explicit ProgressBar(ProgressBarOptions options = {});
  void on_epoch_begin(int epoch, Logs& logs) override;
  void on_batch_end(int64_t batch, Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;

  // The pieces, public for tests: "[====>....]" for current of target, a value, a duration.
  static std::string bar(int64_t current, int64_t target, int width);
  static std::string format_value(double v);
  static std::string format_eta(double seconds);

 private:
  std::string line(int64_t current, const Logs& logs, bool final) const;
  double now() const;

  ProgressBarOptions options_;
  std::ostream* out_;
  bool terminal_;
  int width_;
  double epoch_start_ = 0.0;
  size_t last_length_ = 0;
};

}  // namespace tapegrad
