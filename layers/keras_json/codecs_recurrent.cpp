// Keras configs of the recurrent layers (keras/layers/rnn/: RNN.get_config's keys, then the
// layer's own).
#include "layers/keras_json/layer_codecs.h"
#include "tapegrad/layers/lstm.h"

namespace tapegrad::keras_json {

namespace {

struct LSTMArgs {
  int64_t units = 1;
  LSTMOptions o;
};

}  // namespace

std::vector<LayerCodec> recurrent_codecs() {
  std::vector<LayerCodec> v;
  v.push_back(codec<LSTM, LSTMArgs>(
      "LSTM", [](const LSTM& l) { return LSTMArgs{l.units(), l.options()}; },
      [](auto& io, LSTMArgs& a) {
        io("return_sequences", a.o.return_sequences);
        io("return_state", a.o.return_state);
        io("go_backwards", a.o.go_backwards);
        io("stateful", a.o.stateful);
        io.informational("unroll", false);  // how Keras runs the loop, not what it computes
        io.fixed("time_major", false);
        io("units", a.units);
        io("activation", a.o.activation);
        io("recurrent_activation", a.o.recurrent_activation);
        io("use_bias", a.o.use_bias);
        io("kernel_initializer", a.o.kernel_initializer);
        io("recurrent_initializer", a.o.recurrent_initializer);
        io("bias_initializer", a.o.bias_initializer);
        io("unit_forget_bias", a.o.unit_forget_bias);
        io("kernel_regularizer", a.o.kernel_regularizer);
        io("recurrent_regularizer", a.o.recurrent_regularizer);
        io("bias_regularizer", a.o.bias_regularizer);
        io("activity_regularizer", a.o.activity_regularizer);
        io("kernel_constraint", a.o.kernel_constraint);
        io("recurrent_constraint", a.o.recurrent_constraint);
        io("bias_constraint", a.o.bias_constraint);
        io("dropout", a.o.dropout);
        io("recurrent_dropout", a.o.recurrent_dropout);
        io.informational("implementation", 2);  // Keras' choice of kernel, the same math
        if constexpr (std::is_same_v<std::decay_t<decltype(io)>, ConfigReader>) io.ignored("enable_caching_device");
      },
      [](LSTMArgs a, const std::string& name) {
        a.o.name = name;
        return std::make_shared<LSTM>(a.units, a.o);
      }));
  return v;
}

}  // namespace tapegrad::keras_json
