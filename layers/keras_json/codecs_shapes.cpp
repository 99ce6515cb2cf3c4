// Keras configs of the pooling and reshaping layers (keras/layers/pooling/,
// keras/layers/reshaping/). Note Keras' key orders: 1-D pooling writes strides first, 2-D and 3-D
// pool_size, padding, strides.
#include "layers/keras_json/layer_codecs.h"
#include "tapegrad/core/error.h"
#include "tapegrad/layers/permute.h"
#include "tapegrad/layers/pooling.h"
#include "tapegrad/layers/repeat_vector.h"
#include "tapegrad/layers/reshaping.h"

namespace tapegrad::keras_json {

namespace {

struct PoolingArgs {
  IntTuple pool_size = 2;
  PoolingOptions o;
};

template <class L>
LayerCodec pooling_codec(const char* class_name, int rank) {
  return codec<L, PoolingArgs>(
      class_name,
      [](const L& l) {
        PoolingArgs a{IntTuple(l.pool_size()), l.options()};
        a.o.strides = IntTuple(l.strides());
        return a;
      },
      [rank](auto& io, PoolingArgs& a) {
        if (rank == 1) {
          io("strides", a.o.strides);
          io("pool_size", a.pool_size);
          io("padding", a.o.padding);
        } else {
          io("pool_size", a.pool_size);
          io("padding", a.o.padding);
          io("strides", a.o.strides);
        }
        io("data_format", a.o.data_format);
      },
      [](PoolingArgs a, const std::string& name) {
        a.o.name = name;
        return std::make_shared<L>(a.pool_size, a.o);
      });
}

template <class L>
LayerCodec global_pooling_codec(const char* class_name) {
  return codec<L, GlobalPoolingOptions>(
      class_name, [](const L& l) { return l.options(); },
      [](auto& io, GlobalPoolingOptions& o) {
        io("data_format", o.data_format);
        io("keepdims", o.keepdims);
      },
      [](GlobalPoolingOptions o, const std::string& name) {
        o.name = name;
        return std::make_shared<L>(o);
      });
}

// Padding and cropping amounts: 1-D as Keras' (before, after); 2-D and 3-D as a pair per dim.
// Read also in Keras' shorter forms (an integer, one integer per dim), which expand() takes.
struct AmountArgs {
  std::vector<std::pair<int64_t, int64_t>> pairs;
  std::vector<int64_t> flat;  // a shorter form read
  std::string data_format = "channels_last";
  SpatialAmounts amounts() const { return pairs.empty() ? SpatialAmounts(flat) : SpatialAmounts(pairs); }
};

Json amounts_json(const std::vector<std::pair<int64_t, int64_t>>& pairs) {
  if (pairs.size() == 1) return Json::array({pairs[0].first, pairs[0].second});
  Json j = Json::array();
  for (const auto& [before, after] : pairs) j.push_back(Json::array({before, after}));
  return j;
}

void read_amounts(const ConfigReader& r, const char* key, AmountArgs& a) {
  const Json& j = r.raw(key);
  if (j.is_null()) return;
  const Where at{r.owner(), key};
  if (j.is_number()) {
    int64_t v = 0;
    decode(j, v, at);
    a.flat = {v};
    return;
  }
  if (!j.is_array()) fail(r.owner(), std::string(key) + " must be an integer or a list, got " + describe_value(j));
  bool pairs = !j.empty();
  for (const Json& e : j) pairs = pairs && e.is_array();
  if (!pairs) {
    decode(j, a.flat, at);
    return;
  }
  for (const Json& e : j) {
    std::vector<int64_t> p;
    decode(e, p, at);
    if (p.size() != 2) fail(r.owner(), std::string(key) + " must hold (before, after) pairs, got " + j.dump());
    a.pairs.emplace_back(p[0], p[1]);
  }
}

template <class L>
LayerCodec amounts_codec(const char* class_name, const char* key, int rank, int64_t default_amount) {
  return LayerCodec{
      class_name, std::type_index(typeid(L)),
      [key, rank](const Layer& layer, ConfigWriter& w) {
        const auto& l = static_cast<const L&>(layer);
        if constexpr (std::is_base_of_v<ZeroPadding, L>) w.informational(key, amounts_json(l.padding()));
        else w.informational(key, amounts_json(l.cropping()));
        if (rank > 1) w("data_format", l.data_format());
      },
      [key, rank, default_amount](ConfigReader& r, const std::string& name) -> std::shared_ptr<Layer> {
        AmountArgs a;
        r.ignored(key);
        read_amounts(r, key, a);
        if (a.pairs.empty() && a.flat.empty()) a.flat = {default_amount};
        if (rank > 1) r("data_format", a.data_format);
        r.finish();
        return std::make_shared<L>(a.amounts(), SpatialOptions{a.data_format, name});
      }};
}

struct UpSamplingArgs {
  IntTuple size = 2;
  std::string data_format = "channels_last";
};

template <class L>
LayerCodec upsampling_codec(const char* class_name, int rank) {
  return codec<L, UpSamplingArgs>(
      class_name, [](const L& l) { return UpSamplingArgs{IntTuple(l.size()), l.data_format()}; },
      [rank](auto& io, UpSamplingArgs& a) {
        if constexpr (std::is_same_v<std::decay_t<decltype(io)>, ConfigWriter>) {
          if (rank == 1) io("size", a.size.values()[0]);  // Keras' UpSampling1D writes an integer
          else io("size", a.size);
        } else {
          io("size", a.size);
        }
        if (rank > 1) io("data_format", a.data_format);
        if (rank == 2) io.fixed("interpolation", "nearest");
      },
      [](const UpSamplingArgs& a, const std::string& name) {
        return std::make_shared<L>(a.size, SpatialOptions{a.data_format, name});
      });
}

struct FlattenArgs {
  std::string data_format = "channels_last";
};

struct TargetArgs {
  std::vector<int64_t> target_shape;
};

struct DimsArgs {
  std::vector<int> dims;
};

struct RepeatArgs {
  int64_t n = 1;
};

}  // namespace

std::vector<LayerCodec> reshaping_codecs() {
  std::vector<LayerCodec> v = {
      amounts_codec<ZeroPadding1D>("ZeroPadding1D", "padding", 1, 1),
      amounts_codec<ZeroPadding2D>("ZeroPadding2D", "padding", 2, 1),
      amounts_codec<ZeroPadding3D>("ZeroPadding3D", "padding", 3, 1),
      amounts_codec<Cropping1D>("Cropping1D", "cropping", 1, 1),
      amounts_codec<Cropping2D>("Cropping2D", "cropping", 2, 0),
      amounts_codec<Cropping3D>("Cropping3D", "cropping", 3, 1),
      upsampling_codec<UpSampling1D>("UpSampling1D", 1),
      upsampling_codec<UpSampling2D>("UpSampling2D", 2),
      upsampling_codec<UpSampling3D>("UpSampling3D", 3),
  };
  v.push_back(codec<Flatten, FlattenArgs>(
      "Flatten", [](const Flatten& l) { return FlattenArgs{l.data_format()}; },
      [](auto& io, FlattenArgs& a) { io("data_format", a.data_format); },
      [](const FlattenArgs& a, const std::string& name) {
        return std::make_shared<Flatten>(SpatialOptions{a.data_format, name});
      }));
  v.push_back(codec<Reshape, TargetArgs>(
      "Reshape", [](const Reshape& l) { return TargetArgs{l.target_shape()}; },
      [](auto& io, TargetArgs& a) { io("target_shape", a.target_shape); },
      [](const TargetArgs& a, const std::string& name) {
        return std::make_shared<Reshape>(a.target_shape, LayerOptions{name});
      }));
  v.push_back(codec<Permute, DimsArgs>(
      "Permute", [](const Permute& l) { return DimsArgs{l.dims()}; }, [](auto& io, DimsArgs& a) { io("dims", a.dims); },
      [](const DimsArgs& a, const std::string& name) { return std::make_shared<Permute>(a.dims, LayerOptions{name}); }));
  v.push_back(codec<RepeatVector, RepeatArgs>(
      "RepeatVector", [](const RepeatVector& l) { return RepeatArgs{l.n()}; }, [](auto& io, RepeatArgs& a) { io("n", a.n); },
      [](const RepeatArgs& a, const std::string& name) { return std::make_shared<RepeatVector>(a.n, LayerOptions{name}); }));
  return v;
}

std::vector<LayerCodec> pooling_codecs() {
  return {pooling_codec<MaxPooling1D>("MaxPooling1D", 1),
          pooling_codec<MaxPooling2D>("MaxPooling2D", 2),
          pooling_codec<MaxPooling3D>("MaxPooling3D", 3),
          pooling_codec<AveragePooling1D>("AveragePooling1D", 1),
          pooling_codec<AveragePooling2D>("AveragePooling2D", 2),
          pooling_codec<AveragePooling3D>("AveragePooling3D", 3),
          global_pooling_codec<GlobalMaxPooling1D>("GlobalMaxPooling1D"),
          global_pooling_codec<GlobalMaxPooling2D>("GlobalMaxPooling2D"),
          global_pooling_codec<GlobalMaxPooling3D>("GlobalMaxPooling3D"),
          global_pooling_codec<GlobalAveragePooling1D>("GlobalAveragePooling1D"),
          global_pooling_codec<GlobalAveragePooling2D>("GlobalAveragePooling2D"),
          global_pooling_codec<GlobalAveragePooling3D>("GlobalAveragePooling3D")};
}

}  // namespace tapegrad::keras_json
