// Keras configs of the merge layers (keras/layers/merging/): the elementwise ones have only the
// base keys; Concatenate has axis, Dot axes and normalize.
#include "layers/keras_json/layer_codecs.h"
#include "tapegrad/core/error.h"
#include "tapegrad/layers/merge.h"

namespace tapegrad::keras_json {

namespace {

struct NoArgs {};

template <class L>
LayerCodec elementwise_codec(const char* class_name) {
  return codec<L, NoArgs>(
      class_name, [](const L&) { return NoArgs{}; }, [](auto&, NoArgs&) {},
      [](const NoArgs&, const std::string& name) { return std::make_shared<L>(LayerOptions{name}); });
}

}  // namespace

std::vector<LayerCodec> merge_codecs() {
  std::vector<LayerCodec> v = {elementwise_codec<Add>("Add"),         elementwise_codec<Subtract>("Subtract"),
                               elementwise_codec<Multiply>("Multiply"), elementwise_codec<Average>("Average"),
                               elementwise_codec<Maximum>("Maximum"),   elementwise_codec<Minimum>("Minimum")};
  v.push_back(codec<Concatenate, ConcatenateOptions>(
      "Concatenate", [](const Concatenate& l) { return ConcatenateOptions{l.axis()}; },
      [](auto& io, ConcatenateOptions& o) { io("axis", o.axis); },
      [](ConcatenateOptions o, const std::string& name) {
        o.name = name;
        return std::make_shared<Concatenate>(o);
      }));
  // Keras' axes: one integer for both inputs, or one per input.
  v.push_back(codec<Dot, DotOptions>(
      "Dot", [](const Dot& l) { return l.options(); },
      [](auto& io, DotOptions& o) {
        if constexpr (std::is_same_v<std::decay_t<decltype(io)>, ConfigWriter>) {
          if (o.axes.size() == 2 && o.axes[0] == o.axes[1]) io("axes", o.axes[0]);
          else io("axes", o.axes);
        } else {
          io("axes", o.axes);
          if (o.axes.size() == 1) o.axes.push_back(o.axes[0]);
          if (o.axes.size() != 2)
            fail(io.owner(), "axes must be one integer or two, got " + std::to_string(o.axes.size()));
        }
        io("normalize", o.normalize);
      },
      [](DotOptions o, const std::string& name) {
        o.name = name;
        return std::make_shared<Dot>(o);
      }));
  return v;
}

}  // namespace tapegrad::keras_json
