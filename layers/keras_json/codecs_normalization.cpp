// Keras configs of BatchNormalization and LayerNormalization (keras/layers/normalization/).
// A built Keras layer writes its axis as a list of non-negative axes ("axis": [3] for NHWC).
#include "layers/keras_json/layer_codecs.h"
#include "tapegrad/core/error.h"
#include "tapegrad/layers/batch_normalization.h"
#include "tapegrad/layers/layer_normalization.h"

namespace tapegrad::keras_json {

namespace {

// The axes as a built Keras layer writes them: counted with the batch dim, negatives resolved.
std::vector<int> resolved_axes(const std::vector<int>& axes, const Layer& layer) {
  if (!layer.built()) return axes;
  const int rank = layer.input_shape().rank() + 1;
  std::vector<int> out;
  for (int a : axes) out.push_back(a < 0 ? a + rank : a);
  return out;
}

struct BatchNormArgs {
  std::vector<int> axis;
  BatchNormalizationOptions o;
};

}  // namespace

std::vector<LayerCodec> normalization_codecs() {
  std::vector<LayerCodec> v;
  v.push_back(codec<BatchNormalization, BatchNormArgs>(
      "BatchNormalization",
      [](const BatchNormalization& l) { return BatchNormArgs{resolved_axes({l.options().axis}, l), l.options()}; },
      [](auto& io, BatchNormArgs& a) {
        if constexpr (std::is_same_v<std::decay_t<decltype(io)>, ConfigWriter>) {
          if (a.axis.size() == 1 && a.axis[0] < 0) io("axis", a.axis[0]);  // an unbuilt Keras layer's
          else io("axis", a.axis);
        } else {
          a.axis = {a.o.axis};
          io("axis", a.axis);
          if (a.axis.size() != 1)
            fail(io.owner(), "axis " + Shape(std::vector<int64_t>(a.axis.begin(), a.axis.end())).str() +
                                 " normalizes over several axes; tapegrad's BatchNormalization takes one");
          a.o.axis = a.axis[0];
        }
        io("momentum", a.o.momentum);
        io("epsilon", a.o.epsilon);
        io("center", a.o.center);
        io("scale", a.o.scale);
        io("beta_initializer", a.o.beta_initializer);
        io("gamma_initializer", a.o.gamma_initializer);
        io("moving_mean_initializer", a.o.moving_mean_initializer);
        io("moving_variance_initializer", a.o.moving_variance_initializer);
        io("beta_regularizer", a.o.beta_regularizer);
        io("gamma_regularizer", a.o.gamma_regularizer);
        io("beta_constraint", a.o.beta_constraint);
        io("gamma_constraint", a.o.gamma_constraint);
        if constexpr (std::is_same_v<std::decay_t<decltype(io)>, ConfigReader>) {
          // Written by Keras only when used; tapegrad has neither.
          io.fixed("renorm", false);
          io.fixed("virtual_batch_size", nullptr);
        }
      },
      [](BatchNormArgs a, const std::string& name) {
        a.o.name = name;
        return std::make_shared<BatchNormalization>(a.o);
      }));
  v.push_back(codec<LayerNormalization, LayerNormalizationOptions>(
      "LayerNormalization",
      [](const LayerNormalization& l) {
        LayerNormalizationOptions o = l.options();
        o.axis = resolved_axes(o.axis, l);
        return o;
      },
      [](auto& io, LayerNormalizationOptions& o) {
        io("axis", o.axis);
        io("epsilon", o.epsilon);
        io("center", o.center);
        io("scale", o.scale);
        io("beta_initializer", o.beta_initializer);
        io("gamma_initializer", o.gamma_initializer);
        io("beta_regularizer", o.beta_regularizer);
        io("gamma_regularizer", o.gamma_regularizer);
        io("beta_constraint", o.beta_constraint);
        io("gamma_constraint", o.gamma_constraint);
      },
      [](LayerNormalizationOptions o, const std::string& name) {
        o.name = name;
        return std::make_shared<LayerNormalization>(o);
      }));
  return v;
}

}  // namespace tapegrad::keras_json
