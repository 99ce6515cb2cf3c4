// Keras configs of the recurrent layers (keras/layers/rnn/): RNN.get_config's keys, then the
// layer's own (the cell's options, flattened into the layer's config as Keras does); and
// Bidirectional (Wrapper.get_config's "layer", then merge_mode).
#include "layers/keras_json/layer_codecs.h"
#include "tapegrad/core/error.h"
#include "tapegrad/layers/bidirectional.h"
#include "tapegrad/layers/recurrent.h"
#include "tapegrad/layers/recurrent_cells.h"

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
// A cell has no activity_regularizer (its RNN layer does).
template <class IO, class Options>
void weight_fields(IO& io, Options& o, bool* unit_forget_bias = nullptr, bool activity = true) {
  io("use_bias", o.use_bias);
  io("kernel_initializer", o.kernel_initializer);
  io("recurrent_initializer", o.recurrent_initializer);
  io("bias_initializer", o.bias_initializer);
  if (unit_forget_bias) io("unit_forget_bias", *unit_forget_bias);
  io("kernel_regularizer", o.kernel_regularizer);
  io("recurrent_regularizer", o.recurrent_regularizer);
  io("bias_regularizer", o.bias_regularizer);
  if (activity) io("activity_regularizer", o.activity_regularizer);
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

// A layer's or a cell's codec: its units and options.
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
      recurrent_codec<SimpleRNNCell, SimpleRNNOptions>("SimpleRNNCell",
                                                  [](auto& io, Args<SimpleRNNOptions>& a) {
                                                    io("units", a.units);
                                                    io("activation", a.o.activation);
                                                    weight_fields(io, a.o, nullptr, /*activity=*/false);
                                                    caching_device(io);
                                                  }),
      recurrent_codec<LSTMCell, LSTMOptions>("LSTMCell",
                                        [](auto& io, Args<LSTMOptions>& a) {
                                          io("units", a.units);
                                          io("activation", a.o.activation);
                                          io("recurrent_activation", a.o.recurrent_activation);
                                          weight_fields(io, a.o, &a.o.unit_forget_bias, /*activity=*/false);
                                          io.informational("implementation", a.o.recurrent_dropout != 0.0f ? 1 : 2);
                                          caching_device(io);
                                        }),
      recurrent_codec<GRUCell, GRUOptions>("GRUCell",
                                      [](auto& io, Args<GRUOptions>& a) {
                                        io("units", a.units);
                                        io("activation", a.o.activation);
                                        io("recurrent_activation", a.o.recurrent_activation);
                                        weight_fields(io, a.o, nullptr, /*activity=*/false);
                                        io.informational("implementation", a.o.recurrent_dropout != 0.0f ? 1 : 2);
                                        io("reset_after", a.o.reset_after);
                                        caching_device(io);
                                      }),
      // RNN.get_config's keys, then the cell's whole entry (a Keras cell, or refused).
      LayerCodec{"RNN", std::type_index(typeid(RNN)),
                 [](const Layer& layer, ConfigWriter& w) {
                   const auto& rnn = static_cast<const RNN&>(layer);
                   w("return_sequences", rnn.options().return_sequences);
                   w("return_state", rnn.options().return_state);
                   w("go_backwards", rnn.options().go_backwards);
                   w.fixed("stateful", false);
                   w.informational("unroll", false);
                   w.fixed("time_major", false);
                   w.informational("cell", layer_entry(*rnn.cell(), {}));
                 },
                 [](ConfigReader& r, const std::string& name) -> std::shared_ptr<Layer> {
                   RNNOptions o{.name = name};
                   r("return_sequences", o.return_sequences);
                   r("return_state", o.return_state);
                   r("go_backwards", o.go_backwards);
                   r.fixed("stateful", false);
                   r.ignored("unroll");
                   r.fixed("time_major", false);
                   r.ignored("cell");
                   const Json& inner = r.raw("cell");
                   if (inner.is_null()) fail(r.owner(), "has no \"cell\"");
                   r.finish();
                   auto cell = std::dynamic_pointer_cast<RecurrentCell>(layer_from_entry(inner, r.owner() + " cell"));
                   if (!cell) fail(r.owner(), "its \"cell\" is not a recurrent cell");
                   return std::make_shared<RNN>(cell, o);
                 }},
      // The wrapped layer's whole entry, as given (unbuilt: no build_config), then merge_mode.
      LayerCodec{"Bidirectional", std::type_index(typeid(Bidirectional)),
                 [](const Layer& layer, ConfigWriter& w) {
                   const auto& b = static_cast<const Bidirectional&>(layer);
                   w.informational("layer", layer_entry(*b.layer(), {}));
                   if (b.merge_mode() == "none")
                     w.fixed("merge_mode", nullptr);  // Keras' None
                   else
                     w("merge_mode", b.merge_mode());
                 },
                 [](ConfigReader& r, const std::string& name) -> std::shared_ptr<Layer> {
                   r.ignored("layer");
                   const Json& inner = r.raw("layer");
                   if (inner.is_null()) fail(r.owner(), "has no \"layer\"");
                   BidirectionalOptions o{.name = name};
                   if (r.has("merge_mode") && r.raw("merge_mode").is_null()) {
                     r.ignored("merge_mode");
                     o.merge_mode = "none";  // Keras' None
                   } else {
                     r("merge_mode", o.merge_mode);
                   }
                   r.finish();
                   return std::make_shared<Bidirectional>(layer_from_entry(inner, r.owner() + " layer"), o);
                 }},
  };
}

}  // namespace tapegrad::keras_json
