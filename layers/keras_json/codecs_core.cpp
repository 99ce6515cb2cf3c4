// Keras configs of the core layers: Dense, Activation, Embedding, the dropouts and noises,
// TimeDistributed. Keys in Keras 2.15's order (keras/layers/core/, keras/layers/regularization/).
#include "layers/keras_json/layer_codecs.h"
#include "tapegrad/core/error.h"
#include "tapegrad/layers/activation_layers.h"
#include "tapegrad/layers/alpha_dropout.h"
#include "tapegrad/layers/dense.h"
#include "tapegrad/layers/dropout.h"
#include "tapegrad/layers/embedding.h"
#include "tapegrad/layers/gaussian_dropout.h"
#include "tapegrad/layers/gaussian_noise.h"
#include "tapegrad/layers/masking.h"
#include "tapegrad/layers/spatial_dropout.h"
#include "tapegrad/layers/time_distributed.h"

namespace tapegrad::keras_json {

namespace {

struct DenseArgs {
  int64_t units = 1;
  DenseOptions o;
};

struct ActivationArgs {
  Activation activation;
};

struct EmbeddingArgs {
  int64_t input_dim = 1, output_dim = 1;
  EmbeddingOptions o;
};

struct DropoutArgs {
  float rate = 0.5f;
  std::vector<int64_t> noise_shape;  // empty: Keras' None
  std::optional<uint64_t> seed;
  std::string data_format = "channels_last";  // SpatialDropout only
};

struct NoiseArgs {
  float amount = 0.1f;  // GaussianNoise's stddev, GaussianDropout's rate
  std::optional<uint64_t> seed;
};

// Keras' noise_shape: null or a list.
template <class IO>
void noise_shape_field(IO& io, std::vector<int64_t>& noise_shape) {
  std::optional<std::vector<int64_t>> given;
  if (!noise_shape.empty()) given = noise_shape;
  io.optional("noise_shape", given);
  noise_shape = given.value_or(std::vector<int64_t>{});
}

template <class L>
LayerCodec spatial_dropout_codec(const char* class_name) {
  return codec<L, DropoutArgs>(
      class_name,
      [](const L& l) { return DropoutArgs{l.rate(), {}, l.seed(), l.channels_first() ? "channels_first" : "channels_last"}; },
      [](auto& io, DropoutArgs& a) {
        io("rate", a.rate);
        io.fixed("noise_shape", nullptr);
        io.optional("seed", a.seed);
        // Keras 2.15 does not write data_format (a reload takes channels_last); tapegrad writes
        // it when it is not channels_last, which Keras' constructor also reads.
        std::optional<std::string> format;
        if (a.data_format != "channels_last") format = a.data_format;
        io.optional("data_format", format);
        a.data_format = format.value_or("channels_last");
      },
      [](const DropoutArgs& a, const std::string& name) {
        return std::make_shared<L>(a.rate, SpatialDropoutOptions{a.data_format, a.seed, name});
      });
}

}  // namespace

std::vector<LayerCodec> core_codecs() {
  std::vector<LayerCodec> v;
  v.push_back(codec<Dense, DenseArgs>(
      "Dense", [](const Dense& l) { return DenseArgs{l.units(), l.options()}; },
      [](auto& io, DenseArgs& a) {
        io("units", a.units);
        activation_and_weight_fields(io, a.o);
      },
      [](DenseArgs a, const std::string& name) {
        a.o.name = name;
        return std::make_shared<Dense>(a.units, a.o);
      }));
  v.push_back(codec<ActivationLayer, ActivationArgs>(
      "Activation", [](const ActivationLayer& l) { return ActivationArgs{l.activation()}; },
      [](auto& io, ActivationArgs& a) { io("activation", a.activation); },
      [](const ActivationArgs& a, const std::string& name) {
        return std::make_shared<ActivationLayer>(a.activation, LayerOptions{name});
      }));
  v.push_back(codec<Embedding, EmbeddingArgs>(
      "Embedding", [](const Embedding& l) { return EmbeddingArgs{l.input_dim(), l.output_dim(), l.options()}; },
      [](auto& io, EmbeddingArgs& a) {
        // Keras' Embedding always has an input_shape of (input_length,): batch_input_shape follows dtype.
        io.informational("batch_input_shape", Json::array({nullptr, nullptr}));
        io("input_dim", a.input_dim);
        io("output_dim", a.output_dim);
        io("embeddings_initializer", a.o.embeddings_initializer);
        io("embeddings_regularizer", a.o.embeddings_regularizer);
        io("activity_regularizer", a.o.activity_regularizer);
        io("embeddings_constraint", a.o.embeddings_constraint);
        io("mask_zero", a.o.mask_zero);
        io.informational("input_length", nullptr);  // the input's length comes from the graph
      },
      [](EmbeddingArgs a, const std::string& name) {
        a.o.name = name;
        return std::make_shared<Embedding>(a.input_dim, a.output_dim, a.o);
      }));
  v.push_back(codec<Dropout, DropoutArgs>(
      "Dropout", [](const Dropout& l) { return DropoutArgs{l.rate(), l.options().noise_shape, l.options().seed}; },
      [](auto& io, DropoutArgs& a) {
        io("rate", a.rate);
        noise_shape_field(io, a.noise_shape);
        io.optional("seed", a.seed);
      },
      [](const DropoutArgs& a, const std::string& name) {
        return std::make_shared<Dropout>(a.rate, DropoutOptions{a.noise_shape, a.seed, name});
      }));
  v.push_back(codec<Masking, MaskingOptions>(
      "Masking", [](const Masking& l) { return l.options(); }, [](auto& io, MaskingOptions& a) { io("mask_value", a.mask_value); },
      [](MaskingOptions a, const std::string& name) {
        a.name = name;
        return std::make_shared<Masking>(a);
      }));
  v.push_back(spatial_dropout_codec<SpatialDropout1D>("SpatialDropout1D"));
  v.push_back(spatial_dropout_codec<SpatialDropout2D>("SpatialDropout2D"));
  v.push_back(spatial_dropout_codec<SpatialDropout3D>("SpatialDropout3D"));
  v.push_back(codec<AlphaDropout, DropoutArgs>(
      "AlphaDropout", [](const AlphaDropout& l) { return DropoutArgs{l.rate(), l.noise_shape(), l.seed()}; },
      [](auto& io, DropoutArgs& a) {
        io("rate", a.rate);
        // Keras 2.15 writes no noise_shape here; tapegrad writes one only when it was given
        // (Keras' constructor takes it).
        if constexpr (std::is_same_v<std::decay_t<decltype(io)>, ConfigWriter>) {
          if (!a.noise_shape.empty()) io("noise_shape", a.noise_shape);
        } else {
          noise_shape_field(io, a.noise_shape);
        }
        io.optional("seed", a.seed);
      },
      [](const DropoutArgs& a, const std::string& name) {
        return std::make_shared<AlphaDropout>(a.rate, DropoutOptions{a.noise_shape, a.seed, name});
      }));
  v.push_back(codec<GaussianDropout, NoiseArgs>(
      "GaussianDropout", [](const GaussianDropout& l) { return NoiseArgs{l.rate(), l.seed()}; },
      [](auto& io, NoiseArgs& a) {
        io("rate", a.amount);
        io.optional("seed", a.seed);
      },
      [](const NoiseArgs& a, const std::string& name) {
        return std::make_shared<GaussianDropout>(a.amount, GaussianDropoutOptions{a.seed, name});
      }));
  v.push_back(codec<GaussianNoise, NoiseArgs>(
      "GaussianNoise", [](const GaussianNoise& l) { return NoiseArgs{l.stddev(), l.seed()}; },
      [](auto& io, NoiseArgs& a) {
        io("stddev", a.amount);
        io.optional("seed", a.seed);
      },
      [](const NoiseArgs& a, const std::string& name) {
        return std::make_shared<GaussianNoise>(a.amount, GaussianNoiseOptions{a.seed, name});
      }));
  // TimeDistributed holds its layer's whole entry (Keras' Wrapper.get_config; the wrapper builds
  // the inner layer itself, so the entry has no build_config).
  v.push_back(LayerCodec{
      "TimeDistributed", std::type_index(typeid(TimeDistributed)),
      [](const Layer& layer, ConfigWriter& w) {
        w.informational("layer", layer_entry(*static_cast<const TimeDistributed&>(layer).layer(), {}));
      },
      [](ConfigReader& r, const std::string& name) -> std::shared_ptr<Layer> {
        r.ignored("layer");
        const Json& inner = r.raw("layer");
        if (inner.is_null()) fail(r.owner(), "has no \"layer\"");
        std::shared_ptr<Layer> layer = layer_from_entry(inner, r.owner() + " layer");
        r.finish();
        return std::make_shared<TimeDistributed>(layer, LayerOptions{name});
      }});
  return v;
}

}  // namespace tapegrad::keras_json
