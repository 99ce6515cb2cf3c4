#pragma once
// Callback: hooks that fit() calls, as Keras' callbacks. Epochs and batches are 0-based; the logs
// hold running means for the epoch so far ("loss", metrics) and, at epoch end, the validation
// values ("val_loss", ...). A callback reaches the model and the optimizer through context(), and
// stops training with context().stop_training = true (checked after every batch and epoch).
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "tapegrad/layers/layer.h"
#include "tapegrad/optim/optimizer.h"
#include "tapegrad/train/logs.h"

namespace tapegrad {

struct FitContext {
  Layer* model = nullptr;
  Optimizer* optimizer = nullptr;  // null in evaluate()
  int epochs = 0;
  int64_t steps_per_epoch = 0;
  int64_t samples = 0;  // training samples per epoch
  bool stop_training = false;
};

class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(Logs& logs) {}
  virtual void on_train_end(Logs& logs) {}
  virtual void on_epoch_begin(int epoch, Logs& logs) {}
  // Logs are mutable here: ReduceLROnPlateau adds "lr", which History then records.
  virtual void on_epoch_end(int epoch, Logs& logs) {}
  virtual void on_batch_begin(int64_t batch, Logs& logs) {}
  virtual void on_batch_end(int64_t batch, Logs& logs) {}

  // Set by fit() before on_train_begin.
  void set_context(FitContext* context) { context_ = context; }

 protected:
  FitContext& context();
  const FitContext& context() const;

 private:
  FitContext* context_ = nullptr;
};

// A callback from plain functions; unset ones do nothing.
struct LambdaCallback : Callback {
  std::function<void(Logs&)> train_begin, train_end;
  std::function<void(int, Logs&)> epoch_begin, epoch_end;
  std::function<void(int64_t, Logs&)> batch_begin, batch_end;
  void on_train_begin(Logs& l) override { if (train_begin) train_begin(l); }
  void on_train_end(Logs& l) override { if (train_end) train_end(l); }
  void on_epoch_begin(int e, Logs& l) override { if (epoch_begin) epoch_begin(e, l); }
  void on_epoch_end(int e, Logs& l) override { if (epoch_end) epoch_end(e, l); }
  void on_batch_begin(int64_t b, Logs& l) override { if (batch_begin) batch_begin(b, l); }
  void on_batch_end(int64_t b, Logs& l) override { if (batch_end) batch_end(b, l); }
};

using CallbackPtr = std::shared_ptr<Callback>;

// The model's weights (every parameter, trainable or not) as copies, and their restoration.
std::vector<Tensor> get_weights(const Layer& model);
void set_weights(Layer& model, const std::vector<Tensor>& weights);

}  // namespace tapegrad
