// Keras configs of the activation layers (keras/layers/activation/). Keras keeps ReLU's, LeakyReLU's
// and ELU's parameters as float32 and writes them so: LeakyReLU's 0.3 is 0.30000001192092896.
#include <cmath>
#include <limits>

#include "layers/keras_json/layer_codecs.h"
#include "tapegrad/layers/activation_layers.h"

namespace tapegrad::keras_json {

namespace {

struct ReLUArgs {
  std::optional<double> max_value;  // Keras' None: no cap
  double negative_slope = 0.0, threshold = 0.0;
};

struct AlphaArgs {
  double alpha = 0.3;
};

struct AxisArgs {
  int axis = -1;
};

}  // namespace

std::vector<LayerCodec> activation_codecs() {
  std::vector<LayerCodec> v;
  v.push_back(codec<ReLU, ReLUArgs>(
      "ReLU",
      [](const ReLU& l) {
        ReLUArgs a{std::nullopt, l.params().negative_slope, l.params().threshold};
        if (std::isfinite(l.params().max_value)) a.max_value = l.params().max_value;
        return a;
      },
      [](auto& io, ReLUArgs& a) {
        io.optional("max_value", a.max_value);
        io("negative_slope", a.negative_slope);
        io("threshold", a.threshold);
      },
      [](const ReLUArgs& a, const std::string& name) {
        const float cap = a.max_value ? static_cast<float>(*a.max_value) : std::numeric_limits<float>::infinity();
        return std::make_shared<ReLU>(ReLUOptions{cap, static_cast<float>(a.negative_slope), static_cast<float>(a.threshold), name});
      }));
  v.push_back(codec<LeakyReLU, AlphaArgs>(
      "LeakyReLU", [](const LeakyReLU& l) { return AlphaArgs{l.alpha()}; },
      [](auto& io, AlphaArgs& a) { io("alpha", a.alpha); },
      [](const AlphaArgs& a, const std::string& name) {
        return std::make_shared<LeakyReLU>(static_cast<float>(a.alpha), LayerOptions{name});
      }));
  v.push_back(codec<ELU, AlphaArgs>(
      "ELU", [](const ELU& l) { return AlphaArgs{l.alpha()}; }, [](auto& io, AlphaArgs& a) { io("alpha", a.alpha); },
      [](const AlphaArgs& a, const std::string& name) {
        return std::make_shared<ELU>(static_cast<float>(a.alpha), LayerOptions{name});
      }));
  v.push_back(codec<PReLU, PReLUOptions>(
      "PReLU", [](const PReLU& l) { return l.options(); },
      [](auto& io, PReLUOptions& o) {
        io("alpha_initializer", o.alpha_initializer);
        io("alpha_regularizer", o.alpha_regularizer);
        io("alpha_constraint", o.alpha_constraint);
        std::optional<std::vector<int>> shared;
        if (!o.shared_axes.empty()) shared = o.shared_axes;
        io.optional("shared_axes", shared);
        o.shared_axes = shared.value_or(std::vector<int>{});
      },
      [](PReLUOptions o, const std::string& name) {
        o.name = name;
        return std::make_shared<PReLU>(o);
      }));
  v.push_back(codec<Softmax, AxisArgs>(
      "Softmax", [](const Softmax& l) { return AxisArgs{l.axis()}; }, [](auto& io, AxisArgs& a) { io("axis", a.axis); },
      [](const AxisArgs& a, const std::string& name) { return std::make_shared<Softmax>(a.axis, LayerOptions{name}); }));
  return v;
}

}  // namespace tapegrad::keras_json
