#pragma once
// BatchNormalization, Keras semantics. In training (training = true and the layer trainable) it
// normalizes with the batch's mean and variance over every axis but `axis` and updates the
// moving statistics, moving = moving * momentum + batch * (1 - momentum); at inference it uses
// the moving statistics. y = gamma * (x - mean) / sqrt(var + epsilon) + beta. The moving mean
// and variance are non-trainable parameters (they are saved with the model and counted as
// "Non-trainable params"). The batch variance is the biased one (divided by N), as Keras'
// moments. A frozen layer (set_trainable(false)) runs in inference mode, as in Keras 2.
#include <memory>
#include <string>

#include "tapegrad/layers/constraint.h"
#include "tapegrad/layers/initializer.h"
#include "tapegrad/layers/layer.h"
#include "tapegrad/layers/regularizer.h"

namespace tapegrad {

struct BatchNormalizationOptions {
  int axis = -1;  // of the input with its batch dim: -1 channels_last, 1 channels_first
  float momentum = 0.99f;
  float epsilon = 1e-3f;
  bool center = true;  // learn beta
  bool scale = true;   // learn gamma
  Initializer beta_initializer = "zeros";
  Initializer gamma_initializer = "ones";
  Initializer moving_mean_initializer = "zeros";
  Initializer moving_variance_initializer = "ones";
  RegularizerOption beta_regularizer = nullptr;
  RegularizerOption gamma_regularizer = nullptr;
  ConstraintOption beta_constraint = nullptr;
  ConstraintOption gamma_constraint = nullptr;
  // In a distributed job, normalize with the statistics of the whole job's batch instead of this
  // process's rows (Keras' synchronized): two small collectives per call, forward and backward.
  bool synchronized = false;
  std::string name = "";
};

class BatchNormalization : public Layer {
 public:
  TAPEGRAD_LAYER(BatchNormalization)
  explicit BatchNormalization(BatchNormalizationOptions options = {});

  Shape output_shape(const Shape& input_shape) const override;
  // Null before build(); gamma / beta null without scale / center.
  const ParameterPtr& gamma() const { return gamma_; }
  const ParameterPtr& beta() const { return beta_; }
  const ParameterPtr& moving_mean() const { return moving_mean_; }
  const ParameterPtr& moving_variance() const { return moving_variance_; }
  const BatchNormalizationOptions& options() const { return options_; }

  // This layer's call followed by max(x, 0), as one fused op in training (two passes over memory
  // fewer than a separate relu); the same values as relu(layer(x)). Sequential calls it for a
  // BatchNormalization followed by a plain ReLU layer; model classes may call it directly. An
  // activity regularizer of this layer sees the clamped output (Sequential does not fuse then).
  Variable call_with_relu(const Variable& x, bool training);
  // relu(layer(x) + residual), a ResNet block's end, as one fused op in training (the add and
  // the relu take no passes of their own); residual must have x's shape. The same values as
  // relu(layer(x) + residual); an activity regularizer of this layer sees that output.
  Variable call_add_relu(const Variable& x, const Variable& residual, bool training);

 protected:
  void build_impl(const Shape& input_shape) override;
  Variable forward(const Variable& x, bool training) override;

 private:
  BatchNormalizationOptions options_;
  ParameterPtr gamma_, beta_, moving_mean_, moving_variance_;
  bool fuse_relu_ = false;             // set for the duration of call_with_relu and call_add_relu
  const Variable* residual_ = nullptr;  // set for the duration of call_add_relu

  // The channel axis in the per-sample shape (without batch).
  int channel_axis(const Shape& input_shape) const;
};

}  // namespace tapegrad
