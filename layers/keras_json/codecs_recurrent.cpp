// Keras configs of the recurrent layers (keras/layers/rnn/): RNN.get_config's keys, then the
// layer's own (the cell's options, flattened into the layer's config as Keras does); and
// Bidirectional (Wrapper.get_config's "layer", then merge_mode).
#include "layers/keras_json/layer_codecs.h"
#include "tapegrad/core/error.h"
#include "tapegrad/layers/bidirectional.h"
#include "tapegrad/layers/recurrent.h"

namespace tapegrad::keras_json {

namespace {

template <class Options>
struct Args {
  int64_t units = 1;
  Options o;
};

// RNN.get_config's keys, in its order.
template <class IO, class Options>
void rnn_fields(IO& io, Options& o) {
  io("return_sequences", o.return_sequences);
  io("return_state", o.return_state);
  io("go_backwards", o.go_backwards);
  io("stateful", o.stateful);
  io.informational("unroll", false);  // how Keras runs the loop, not what it computes
  io.fixed("time_major", false);
}

// The cell's keys that all three have, from use_bias on (LSTM puts unit_forget_bias among them).
template <class IO, class Options>
void weight_fields(IO& io, Options& o, bool* unit_forget_bias = nullptr) {
  io("use_bias", o.use_bias);
  io("kernel_initializer", o.kernel_initializer);
  io("recurrent_initializer", o.recurrent_initializer);
  io("bias_initializer", o.bias_initializer);
  if (unit_forget_bias) io("unit_forget_bias", *unit_forget_bias);
  io("kernel_regularizer", o.kernel_regularizer);
  io("recurrent_regularizer", o.recurrent_regularizer);
  io("bias_regularizer", o.bias_regularizer);
  io("activity_regularizer", o.activity_regularizer);
  io("kernel_constraint", o.kernel_constraint);
  io("recurrent_constraint", o.recurrent_constraint);
  io("bias_constraint", o.bias_constraint);
  io("dropout", o.dropout);
  io("recurrent_dropout", o.recurrent_dropout);
}

// Keras writes enable_caching_device only when it is not its default; it changes nothing here.
template <class IO>
void caching_device(IO& io) {
  if constexpr (std::is_same_v<IO, ConfigReader>) io.ignored("enable_caching_device");
}

template <class L, class Options, class Fields>
LayerCodec recurrent_codec(const char* class_name, Fields fields) {
  return codec<L, Args<Options>>(
      class_name, [](const L& l) { return Args<Options>{l.units(), l.options()}; }, fields,
      [](Args<Options> a, const std::string& name) {
        a.o.name = name;
        return std::make_shared<L>(a.units, a.o);
      });
}

}  // namespace

std::vector<LayerCodec> recurrent_codecs() {
  return {
      recurrent_codec<SimpleRNN, SimpleRNNOptions>("SimpleRNN",
                                                   [](auto& io, Args<SimpleRNNOptions>& a) {
                                                     rnn_fields(io, a.o);
                                                     io("units", a.units);
                                                     io("activation", a.o.activation);
                                                     weight_fields(io, a.o);
                                                     caching_device(io);
                                                   }),
      recurrent_codec<LSTM, LSTMOptions>("LSTM",
                                         [](auto& io, Args<LSTMOptions>& a) {
                                           rnn_fields(io, a.o);
                                           io("units", a.units);
                                           io("activation", a.o.activation);
                                           io("recurrent_activation", a.o.recurrent_activation);
                                           weight_fields(io, a.o, &a.o.unit_forget_bias);
                                           // Keras' choice of kernel: 1 when recurrent_dropout forces its cells
                                           io.informational("implementation", a.o.recurrent_dropout != 0.0f ? 1 : 2);
                                           caching_device(io);
                                         }),
      recurrent_codec<GRU, GRUOptions>("GRU",
                                       [](auto& io, Args<GRUOptions>& a) {
                                         rnn_fields(io, a.o);
                                         io("units", a.units);
                                         io("activation", a.o.activation);
                                         io("recurrent_activation", a.o.recurrent_activation);
                                         weight_fields(io, a.o);
                                         io.informational("implementation", a.o.recurrent_dropout != 0.0f ? 1 : 2);
                                         io("reset_after", a.o.reset_after);
                                         caching_device(io);
                                       }),
      // The wrapped layer's whole entry, as given (unbuilt: no build_config), then merge_mode.
      LayerCodec{"Bidirectional", std::type_index(typeid(Bidirectional)),
                 [](const Layer& layer, ConfigWriter& w) {
                   const auto& b = static_cast<const Bidirectional&>(layer);
                   w.informational("layer", layer_entry(*b.layer(), {}));
                   w("merge_mode", b.merge_mode());
                 },
                 [](ConfigReader& r, const std::string& name) -> std::shared_ptr<Layer> {
                   r.ignored("layer");
                   const Json& inner = r.raw("layer");
                   if (inner.is_null()) fail(r.owner(), "has no \"layer\"");
                   BidirectionalOptions o{.name = name};
                   r("merge_mode", o.merge_mode);  // Keras' None (null) is refused: not supported yet
                   r.finish();
                   return std::make_shared<Bidirectional>(layer_from_entry(inner, r.owner() + " layer"), o);
                 }},
  };
}

}  // namespace tapegrad::keras_json
