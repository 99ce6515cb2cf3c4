// Keras configs of the convolutions (keras/layers/convolutional/base_conv.py and the depthwise,
// separable and transposed variants; keras/layers/locally_connected/). Keras writes every tuple
// expanded to one value per spatial dim: "kernel_size": [3, 3].
#include "layers/keras_json/layer_codecs.h"
#include "tapegrad/layers/conv.h"
#include "tapegrad/layers/depthwise_conv.h"
#include "tapegrad/layers/locally_connected.h"

namespace tapegrad::keras_json {

namespace {

struct ConvArgs {
  int64_t filters = 1;
  IntTuple kernel_size = 1;
  ConvOptions o;
};

// Conv.get_config's keys; transposed convolutions add output_padding. groups is Keras' grouped
// convolution: tapegrad has groups = 1.
template <class IO>
void conv_fields(IO& io, ConvArgs& a, bool transpose, bool has_dilation) {
  io("filters", a.filters);
  io("kernel_size", a.kernel_size);
  io("strides", a.o.strides);
  io("padding", a.o.padding);
  io("data_format", a.o.data_format);
  // Keras' Conv3DTranspose writes no dilation_rate; tapegrad does when it is not 1.
  bool write_dilation = has_dilation;
  for (int64_t d : a.o.dilation_rate.values()) write_dilation = write_dilation || d != 1;
  if (write_dilation || std::is_same_v<IO, ConfigReader>) io("dilation_rate", a.o.dilation_rate);
  io.fixed("groups", 1);
  activation_and_weight_fields(io, a.o);
  if (transpose) io("output_padding", a.o.output_padding);
}

template <class L>
LayerCodec conv_codec(const char* class_name, bool transpose, bool has_dilation = true) {
  return codec<L, ConvArgs>(
      class_name,
      [](const L& l) {
        ConvArgs a{l.filters(), IntTuple(l.kernel_size()), l.options()};
        a.o.strides = IntTuple(l.strides());
        a.o.dilation_rate = IntTuple(l.dilation_rate());
        if (!l.output_padding().empty()) a.o.output_padding = IntTuple(l.output_padding());
        return a;
      },
      [transpose, has_dilation](auto& io, ConvArgs& a) { conv_fields(io, a, transpose, has_dilation); },
      [](ConvArgs a, const std::string& name) {
        a.o.name = name;
        return std::make_shared<L>(a.filters, a.kernel_size, a.o);
      });
}

struct DepthwiseArgs {
  IntTuple kernel_size = 1;
  DepthwiseConvOptions o;
};

template <class L>
LayerCodec depthwise_codec(const char* class_name) {
  return codec<L, DepthwiseArgs>(
      class_name,
      [](const L& l) {
        DepthwiseArgs a{IntTuple(l.kernel_size()), l.options()};
        a.o.strides = IntTuple(l.strides());
        a.o.dilation_rate = IntTuple(l.dilation_rate());
        return a;
      },
      // Conv's keys without filters and kernel_*, then the depthwise ones appended.
      [](auto& io, DepthwiseArgs& a) {
        io("kernel_size", a.kernel_size);
        io("strides", a.o.strides);
        io("padding", a.o.padding);
        io("data_format", a.o.data_format);
        io("dilation_rate", a.o.dilation_rate);
        io.fixed("groups", 1);
        io("activation", a.o.activation);
        io("use_bias", a.o.use_bias);
        io("bias_initializer", a.o.bias_initializer);
        io("bias_regularizer", a.o.bias_regularizer);
        io("activity_regularizer", a.o.activity_regularizer);
        io("bias_constraint", a.o.bias_constraint);
        io("depth_multiplier", a.o.depth_multiplier);
        io("depthwise_initializer", a.o.depthwise_initializer);
        io("depthwise_regularizer", a.o.depthwise_regularizer);
        io("depthwise_constraint", a.o.depthwise_constraint);
      },
      [](DepthwiseArgs a, const std::string& name) {
        a.o.name = name;
        return std::make_shared<L>(a.kernel_size, a.o);
      });
}

struct SeparableArgs {
  int64_t filters = 1;
  IntTuple kernel_size = 1;
  SeparableConvOptions o;
};

template <class L>
LayerCodec separable_codec(const char* class_name) {
  return codec<L, SeparableArgs>(
      class_name,
      [](const L& l) {
        SeparableArgs a{l.filters(), IntTuple(l.kernel_size()), l.options()};
        a.o.strides = IntTuple(l.strides());
        a.o.dilation_rate = IntTuple(l.dilation_rate());
        return a;
      },
      // Conv's whole config under the separable one: Keras also writes Conv's kernel_initializer,
      // kernel_regularizer and kernel_constraint, which a separable convolution does not use.
      [](auto& io, SeparableArgs& a) {
        io("filters", a.filters);
        io("kernel_size", a.kernel_size);
        io("strides", a.o.strides);
        io("padding", a.o.padding);
        io("data_format", a.o.data_format);
        io("dilation_rate", a.o.dilation_rate);
        io.fixed("groups", 1);
        io("activation", a.o.activation);
        io("use_bias", a.o.use_bias);
        io.informational("kernel_initializer", keras_object("keras.initializers", {"GlorotUniform", {{"seed", nullptr}}}));
        io("bias_initializer", a.o.bias_initializer);
        io.informational("kernel_regularizer", nullptr);
        io("bias_regularizer", a.o.bias_regularizer);
        io("activity_regularizer", a.o.activity_regularizer);
        io.informational("kernel_constraint", nullptr);
        io("bias_constraint", a.o.bias_constraint);
        io("depth_multiplier", a.o.depth_multiplier);
        io("depthwise_initializer", a.o.depthwise_initializer);
        io("pointwise_initializer", a.o.pointwise_initializer);
        io("depthwise_regularizer", a.o.depthwise_regularizer);
        io("pointwise_regularizer", a.o.pointwise_regularizer);
        io("depthwise_constraint", a.o.depthwise_constraint);
        io("pointwise_constraint", a.o.pointwise_constraint);
      },
      [](SeparableArgs a, const std::string& name) {
        a.o.name = name;
        return std::make_shared<L>(a.filters, a.kernel_size, a.o);
      });
}

template <class L>
LayerCodec locally_connected_codec(const char* class_name) {
  return codec<L, ConvArgs>(
      class_name,
      [](const L& l) {
        ConvArgs a{l.filters(), IntTuple(l.kernel_size()), l.options()};
        a.o.strides = IntTuple(l.strides());
        return a;
      },
      [](auto& io, ConvArgs& a) {
        io("filters", a.filters);
        io("kernel_size", a.kernel_size);
        io("strides", a.o.strides);
        io("padding", a.o.padding);
        io("data_format", a.o.data_format);
        activation_and_weight_fields(io, a.o);
        // Keras' implementation 1, 2 or 3 chooses how it computes, not what: all read the same.
        io.informational("implementation", 1);
      },
      [](ConvArgs a, const std::string& name) {
        a.o.name = name;
        return std::make_shared<L>(a.filters, a.kernel_size, a.o);
      });
}

}  // namespace

std::vector<LayerCodec> convolution_codecs() {
  return {conv_codec<Conv1D>("Conv1D", false),
          conv_codec<Conv2D>("Conv2D", false),
          conv_codec<Conv3D>("Conv3D", false),
          conv_codec<Conv1DTranspose>("Conv1DTranspose", true),
          conv_codec<Conv2DTranspose>("Conv2DTranspose", true),
          conv_codec<Conv3DTranspose>("Conv3DTranspose", true, /*has_dilation=*/false),
          depthwise_codec<DepthwiseConv1D>("DepthwiseConv1D"),
          depthwise_codec<DepthwiseConv2D>("DepthwiseConv2D"),
          separable_codec<SeparableConv1D>("SeparableConv1D"),
          separable_codec<SeparableConv2D>("SeparableConv2D"),
          locally_connected_codec<LocallyConnected1D>("LocallyConnected1D"),
          locally_connected_codec<LocallyConnected2D>("LocallyConnected2D")};
}

}  // namespace tapegrad::keras_json
