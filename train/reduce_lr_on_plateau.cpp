#include "tapegrad/train/reduce_lr_on_plateau.h"

#include <algorithm>

#include "tapegrad/core/error.h"

namespace tapegrad {

ReduceLROnPlateau::ReduceLROnPlateau(ReduceLROnPlateauOptions options)
    : options_(std::move(options)), monitor_(options_.monitor, options_.mode, options_.min_delta) {
  if (!(options_.factor < 1.0 && options_.factor >= 0.0))
    fail("ReduceLROnPlateau", "factor must be in [0, 1), got " + std::to_string(options_.factor));
  if (options_.patience < 0) fail("ReduceLROnPlateau", "patience must be >= 0, got " + std::to_string(options_.patience));
}

void ReduceLROnPlateau::on_train_begin(Logs&) {
  best_ = monitor_.worst();
  wait_ = cooldown_counter_ = 0;
  reductions_.clear();
  Optimizer* opt = context().optimizer;
  if (opt && !opt->config().learning_rate.constant())
    fail("ReduceLROnPlateau", "the optimizer's learning rate is a schedule (" + opt->config().learning_rate.schedule().name() +
                                  "); ReduceLROnPlateau needs a constant learning rate");
}

void ReduceLROnPlateau::on_epoch_end(int epoch, Logs& logs) {
  Optimizer& opt = *context().optimizer;
  logs.set("lr", opt.learning_rate());
  const auto current = monitor_.value(logs, "ReduceLROnPlateau");
  if (!current) return;
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    wait_ = 0;
  }
  if (monitor_.improves(*current, best_)) {
    best_ = *current;
    wait_ = 0;
  } else if (cooldown_counter_ == 0) {
    if (++wait_ >= options_.patience) {
      const double old_lr = opt.learning_rate();
      // Compared in float32, as Keras (old_lr > np.float32(min_lr)): the rate itself is a float.
      if (static_cast<float>(old_lr) > static_cast<float>(options_.min_lr)) {
        opt.set_learning_rate(static_cast<float>(std::max(old_lr * options_.factor, options_.min_lr)));
        reductions_.push_back(epoch);
        cooldown_counter_ = options_.cooldown;
        wait_ = 0;
      }
    }
  }
}

}  // namespace tapegrad
