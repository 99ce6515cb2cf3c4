#pragma once
// Activations as layers, as Keras': ActivationLayer (Keras' `Activation` layer; the name
// `Activation` is the function object of layers/activation.h), ReLU, LeakyReLU, PReLU (learned
// slopes), ELU and Softmax. All keep the input shape.
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "tapegrad/layers/activation.h"
#include "tapegrad/layers/constraint.h"
#include "tapegrad/layers/initializer.h"
#include "tapegrad/layers/layer.h"
#include "tapegrad/layers/regularizer.h"

namespace tapegrad {

// Applies an Activation (by name, factory or callable): ActivationLayer("relu").
class ActivationLayer : public Layer {
 public:
  TAPEGRAD_LAYER(ActivationLayer)
  MaskSupport mask_support() const override { return MaskSupport::passes; }
  explicit ActivationLayer(Activation activation, LayerOptions options = {});
  Shape output_shape(const Shape& input_shape) const override { return input_shape; }
  const Activation& activation() const { return activation_; }

 protected:
  Variable forward(const Variable& x, bool) override { return activation_(x); }

 private:
  Activation activation_;
};

struct ReLUOptions {
  float max_value = std::numeric_limits<float>::infinity();  // Keras' None
  float negative_slope = 0.0f;
  float threshold = 0.0f;
  std::string name = "";
};

class ReLU : public Layer {
 public:
  TAPEGRAD_LAYER(ReLU)
  MaskSupport mask_support() const override { return MaskSupport::passes; }
  explicit ReLU(ReLUOptions options = {});
  Shape output_shape(const Shape& input_shape) const override { return input_shape; }
  // max(x, 0) and nothing else: no slope, cap or threshold, no activity regularizer (the ReLU
  // that Sequential fuses into a BatchNormalization before it).
  bool plain() const;
  const ReLUParams& params() const { return relu_; }

 protected:
  Variable forward(const Variable& x, bool training) override;

 private:
  ReLUParams relu_;
};

// x for x > 0, alpha * x otherwise; Keras' default alpha 0.3.
class LeakyReLU : public Layer {
 public:
  TAPEGRAD_LAYER(LeakyReLU)
  MaskSupport mask_support() const override { return MaskSupport::passes; }
  explicit LeakyReLU(float alpha = 0.3f, LayerOptions options = {});
  Shape output_shape(const Shape& input_shape) const override { return input_shape; }
  float alpha() const { return alpha_; }

 protected:
  Variable forward(const Variable& x, bool training) override;

 private:
  float alpha_;
};

struct PReLUOptions {
  Initializer alpha_initializer = "zeros";
  RegularizerOption alpha_regularizer = nullptr;
  ConstraintOption alpha_constraint = nullptr;
  // Axes (of the input with its batch dim, so >= 1) along which one alpha is shared: {1, 2} on
  // (batch, rows, cols, channels) learns one slope per channel.
  std::vector<int> shared_axes = {};
  std::string name = "";
};

// x for x > 0, alpha * x otherwise, alpha learned: one per input element (without batch) except
// along shared_axes.
class PReLU : public Layer {
 public:
  TAPEGRAD_LAYER(PReLU)
  MaskSupport mask_support() const override { return MaskSupport::passes; }
  explicit PReLU(PReLUOptions options = {});
  Shape output_shape(const Shape& input_shape) const override;
  const ParameterPtr& alpha() const { return alpha_; }
  const PReLUOptions& options() const { return options_; }

 protected:
  void build_impl(const Shape& input_shape) override;
  Variable forward(const Variable& x, bool training) override;

 private:
  PReLUOptions options_;
  ParameterPtr alpha_;
};

class ELU : public Layer {
 public:
  TAPEGRAD_LAYER(ELU)
  MaskSupport mask_support() const override { return MaskSupport::passes; }
  explicit ELU(float alpha = 1.0f, LayerOptions options = {});
  Shape output_shape(const Shape& input_shape) const override { return input_shape; }
  float alpha() const { return alpha_; }

 protected:
  Variable forward(const Variable& x, bool training) override;

 private:
  float alpha_;
};

class Softmax : public Layer {
 public:
  TAPEGRAD_LAYER(Softmax)
  explicit Softmax(int axis = -1, LayerOptions options = {});
  Shape output_shape(const Shape& input_shape) const override;
  int axis() const { return axis_; }

 protected:
  Variable forward(const Variable& x, bool training) override;

 private:
  int axis_;
};

}  // namespace tapegrad
