// The value conversions of layer configs, and Keras' JSON for initializers, regularizers and
// constraints (keras/saving/serialization_lib.py's serialize_keras_object of each).
#include "layers/keras_json/config_io.h"

#include <cmath>
#include <functional>
#include <limits>
#include <map>

#include "tapegrad/core/error.h"

namespace tapegrad::keras_json {

std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

namespace {

[[noreturn]] void wrong(const Json& j, Where at, const std::string& expected) {
  fail(at.owner, std::string(at.key) + " must be " + expected + ", got " + describe_value(j));
}

Json config_value(const ConfigValue& v) {
  return std::visit([](const auto& x) -> Json { return Json(x); }, v);
}

// A Keras object's dict, in any of the forms Keras reads: {"module", "class_name", "config",
// "registered_name"}, the legacy {"class_name", "config"}, or a bare name.
struct ObjectJson {
  std::string class_name;
  Json config = Json::object();
};

ObjectJson object_json(const Json& j, Where at, const std::string& what) {
  if (j.is_string()) return {j.get<std::string>(), Json::object()};
  if (!j.is_object() || !j.contains("class_name") || !j.at("class_name").is_string())
    wrong(j, at, what + " (a name or an object with \"class_name\" and \"config\")");
  ObjectJson o{j.at("class_name").get<std::string>()};
  if (j.contains("config") && !j.at("config").is_null()) {
    if (!j.at("config").is_object()) wrong(j.at("config"), at, "a config object");
    o.config = j.at("config");
  }
  return o;
}

// Reads an object's arguments by name; an argument it does not know is an error listing them.
class Arguments {
 public:
  Arguments(const Json& config, std::string owner) : config_(config), owner_(std::move(owner)) {}
  template <class T>
  T get(const char* key, T fallback) {
    known_.push_back(key);
    if (!config_.contains(key) || config_.at(key).is_null()) return fallback;
    T v = fallback;
    decode(config_.at(key), v, Where{owner_, key});
    return v;
  }
  void ignored(const char* key) { known_.push_back(key); }
  initializers::Seed seed() {
    known_.push_back("seed");
    if (!config_.contains("seed") || config_.at("seed").is_null()) return std::nullopt;
    int64_t s = 0;
    decode(config_.at("seed"), s, Where{owner_, "seed"});
    if (s < 0) fail(owner_, "seed must be >= 0, got " + std::to_string(s));
    return static_cast<uint64_t>(s);
  }
  void finish() const {
    for (const auto& [key, value] : config_.items()) {
      bool found = false;
      for (const auto& k : known_) found = found || k == key;
      if (!found) fail(owner_, "unknown argument '" + key + "'; it takes: " + joined(known_));
    }
  }

 private:
  const Json& config_;
  std::string owner_;
  std::vector<std::string> known_;
};

using InitializerMaker = std::function<Initializer(Arguments&)>;

const std::map<std::string, InitializerMaker>& initializer_classes() {
  using namespace initializers;
  static const std::map<std::string, InitializerMaker> classes = {
      {"Zeros", [](Arguments&) { return Zeros(); }},
      {"Ones", [](Arguments&) { return Ones(); }},
      {"Constant", [](Arguments& a) { return Constant(a.get("value", 0.0f)); }},
      {"RandomNormal",
       [](Arguments& a) {
         const float mean = a.get("mean", 0.0f), stddev = a.get("stddev", 0.05f);
         return RandomNormal(mean, stddev, a.seed());
       }},
      {"RandomUniform",
       [](Arguments& a) {
         const float lo = a.get("minval", -0.05f), hi = a.get("maxval", 0.05f);
         return RandomUniform(lo, hi, a.seed());
       }},
      {"TruncatedNormal",
       [](Arguments& a) {
         const float mean = a.get("mean", 0.0f), stddev = a.get("stddev", 0.05f);
         return TruncatedNormal(mean, stddev, a.seed());
       }},
      {"VarianceScaling",
       [](Arguments& a) {
         const double scale = a.get("scale", 1.0);
         const std::string mode = a.get("mode", std::string("fan_in"));
         const std::string distribution = a.get("distribution", std::string("truncated_normal"));
         return VarianceScaling(scale, mode, distribution, a.seed());
       }},
      {"GlorotNormal", [](Arguments& a) { return GlorotNormal(a.seed()); }},
      {"GlorotUniform", [](Arguments& a) { return GlorotUniform(a.seed()); }},
      {"HeNormal", [](Arguments& a) { return HeNormal(a.seed()); }},
      {"HeUniform", [](Arguments& a) { return HeUniform(a.seed()); }},
      {"LecunNormal", [](Arguments& a) { return LecunNormal(a.seed()); }},
      {"LecunUniform", [](Arguments& a) { return LecunUniform(a.seed()); }},
      {"Orthogonal",
       [](Arguments& a) {
         const float gain = a.get("gain", 1.0f);
         return Orthogonal(gain, a.seed());
       }},
      {"Identity", [](Arguments& a) { return Identity(a.get("gain", 1.0f)); }},
  };
  return classes;
}

template <class Map>
std::vector<std::string> keys_of(const Map& m) {
  std::vector<std::string> names;
  for (const auto& [name, value] : m) names.push_back(name);
  return names;
}

// Keras' constraints: axis is an integer or a list of them.
Json axis_json(const std::vector<int>& axes) { return axes.size() == 1 ? Json(axes[0]) : Json(axes); }

}  // namespace

std::string describe_value(const Json& j) {
  if (j.is_null()) return "null";
  if (j.is_boolean()) return j.get<bool>() ? "true" : "false";
  if (j.is_number_integer() || j.is_number_unsigned()) return "the integer " + j.dump();
  if (j.is_number()) return "the number " + j.dump();
  if (j.is_string()) return "the string " + j.dump();
  if (j.is_array()) return "a list of " + std::to_string(j.size()) + " " + (j.size() == 1 ? "value" : "values") + " " + j.dump();
  std::string dump = j.dump();
  if (dump.size() > 80) dump = dump.substr(0, 77) + "...";
  return "the object " + dump;
}

Json keras_object(const std::string& module, const KerasObjectConfig& object) {
  Json config = Json::object();
  for (const auto& [key, value] : object.config) config[key] = config_value(value);
  return Json{{"module", module}, {"class_name", object.class_name}, {"config", config}, {"registered_name", nullptr}};
}

// ---- plain values ----

Json encode(int64_t v, Where) { return v; }
Json encode(int v, Where) { return v; }
Json encode(uint64_t v, Where) { return v; }
Json encode(float v, Where at) {
  if (!std::isfinite(v)) fail(at.owner, std::string(at.key) + " is " + std::to_string(v) + ", which JSON cannot hold");
  return shortest_decimal(v);
}
Json encode(double v, Where at) {
  if (!std::isfinite(v)) fail(at.owner, std::string(at.key) + " is " + std::to_string(v) + ", which JSON cannot hold");
  return v;
}
Json encode(bool v, Where) { return v; }
Json encode(const std::string& v, Where) { return v; }
Json encode(const IntTuple& v, Where) { return v.empty() ? Json(nullptr) : Json(v.values()); }
Json encode(const std::vector<int64_t>& v, Where) { return Json(v); }
Json encode(const std::vector<int>& v, Where) { return Json(v); }

void decode(const Json& j, int64_t& v, Where at) {
  // Keras writes integers; a float with an integer value (2.0) is one too.
  if (j.is_number_integer() || j.is_number_unsigned()) {
    v = j.get<int64_t>();
    return;
  }
  if (j.is_number_float() && std::floor(j.get<double>()) == j.get<double>() && std::fabs(j.get<double>()) < 9e15) {
    v = static_cast<int64_t>(j.get<double>());
    return;
  }
  wrong(j, at, "an integer");
}

void decode(const Json& j, int& v, Where at) {
  int64_t w = 0;
  decode(j, w, at);
  if (w < std::numeric_limits<int>::min() || w > std::numeric_limits<int>::max()) wrong(j, at, "a small integer");
  v = static_cast<int>(w);
}

void decode(const Json& j, uint64_t& v, Where at) {
  int64_t w = 0;
  decode(j, w, at);
  if (w < 0) wrong(j, at, "a non-negative integer");
  v = static_cast<uint64_t>(w);
}

void decode(const Json& j, double& v, Where at) {
  if (!j.is_number()) wrong(j, at, "a number");
  v = j.get<double>();
}

void decode(const Json& j, float& v, Where at) {
  double d = 0;
  decode(j, d, at);
  v = static_cast<float>(d);
}

void decode(const Json& j, bool& v, Where at) {
  if (!j.is_boolean()) wrong(j, at, "true or false");
  v = j.get<bool>();
}

void decode(const Json& j, std::string& v, Where at) {
  if (!j.is_string()) wrong(j, at, "a string");
  v = j.get<std::string>();
}

void decode(const Json& j, std::vector<int64_t>& v, Where at) {
  if (!j.is_array()) wrong(j, at, "a list of integers");
  v.clear();
  for (const Json& e : j) {
    int64_t x = 0;
    if (!(e.is_number_integer() || e.is_number_unsigned())) wrong(j, at, "a list of integers");
    decode(e, x, at);
    v.push_back(x);
  }
}

void decode(const Json& j, std::vector<int>& v, Where at) {
  v.clear();
  if (j.is_number()) {
    int x = 0;
    decode(j, x, at);
    v.push_back(x);
    return;
  }
  if (!j.is_array()) wrong(j, at, "an integer or a list of integers");
  for (const Json& e : j) {
    int x = 0;
    if (!(e.is_number_integer() || e.is_number_unsigned())) wrong(j, at, "an integer or a list of integers");
    decode(e, x, at);
    v.push_back(x);
  }
}

void decode(const Json& j, IntTuple& v, Where at) {
  if (j.is_null()) {
    v = IntTuple();
    return;
  }
  if (j.is_number()) {
    int64_t x = 0;
    decode(j, x, at);
    v = IntTuple(x);
    return;
  }
  std::vector<int64_t> values;
  decode(j, values, at);
  v = IntTuple(std::move(values));
}

// ---- activations ----

Json encode(const Activation& v, Where at) {
  if (!v.named())
    fail(at.owner, std::string(at.key) + " is the activation '" + v.name() +
                       "' made from a function or with arguments; Keras' JSON holds an activation by name only "
                       "(register_activation() gives a function a name)");
  return v.name();
}

void decode(const Json& j, Activation& v, Where at) {
  if (j.is_null()) {
    v = Activation();
    return;
  }
  // Keras 2.15 writes a name; a function saved as {"class_name": "function", "config": name} also names it.
  if (j.is_object() && j.contains("config") && j.at("config").is_string()) {
    v = Activation(j.at("config").get<std::string>());
    return;
  }
  if (!j.is_string()) wrong(j, at, "an activation name");
  try {
    v = Activation(j.get<std::string>());
  } catch (const Error& e) {
    fail(at.owner, std::string(at.key) + ": " + e.what());
  }
}

// ---- initializers ----

Json encode(const Initializer& v, Where at) {
  if (!v.keras_config())
    fail(at.owner, std::string(at.key) + " is the custom initializer '" + v.name() +
                       "'; Keras' JSON holds Keras' initializers only (tg::initializers::...)");
  return keras_object("keras.initializers", *v.keras_config());
}

void decode(const Json& j, Initializer& v, Where at) {
  const ObjectJson o = object_json(j, at, "an initializer");
  if (j.is_string()) {
    // A name: Keras' initializers.get() takes the snake case one ("glorot_uniform") or the class.
    const auto& classes = initializer_classes();
    if (!classes.count(o.class_name)) {
      try {
        v = Initializer(o.class_name);
      } catch (const Error&) {
        fail(at.owner, std::string(at.key) + ": unknown initializer '" + o.class_name + "'; known: " +
                           joined(initializer_names()) + ", or a class: " + joined(keys_of(classes)));
      }
      return;
    }
  }
  const auto it = initializer_classes().find(o.class_name);
  if (it == initializer_classes().end())
    fail(at.owner, std::string(at.key) + ": unknown initializer class '" + o.class_name +
                       "'; known: " + joined(keys_of(initializer_classes())));
  Arguments args(o.config, at.owner + ": " + at.key + " " + o.class_name);
  args.ignored("dtype");  // TF 2.0-2.3 wrote one; Keras' Initializer.from_config drops it
  v = it->second(args);
  args.finish();
}

// ---- regularizers ----

Json encode(const RegularizerOption& v, Where at) {
  if (!v) return nullptr;
  const auto* l1l2 = dynamic_cast<const L1L2*>(v.get());
  if (!l1l2 || typeid(*v) != typeid(L1L2))
    fail(at.owner, std::string(at.key) + " is a custom regularizer; Keras' JSON holds L1, L2 and L1L2 only");
  // Keras keeps its factors as float32 (backend.cast_to_floatx), so they print as such.
  const double l1 = l1l2->l1(), l2 = l1l2->l2();
  if (l2 == 0.0 && l1 != 0.0) return keras_object("keras.regularizers", {"L1", {{"l1", l1}}});
  if (l1 == 0.0 && l2 != 0.0) return keras_object("keras.regularizers", {"L2", {{"l2", l2}}});
  return keras_object("keras.regularizers", {"L1L2", {{"l1", l1}, {"l2", l2}}});
}

void decode(const Json& j, RegularizerOption& v, Where at) {
  if (j.is_null()) {
    v = nullptr;
    return;
  }
  const ObjectJson o = object_json(j, at, "a regularizer");
  if (j.is_string()) {
    try {
      v = RegularizerOption(o.class_name);
    } catch (const Error& e) {
      fail(at.owner, std::string(at.key) + ": " + e.what());
    }
    return;
  }
  Arguments args(o.config, at.owner + ": " + at.key + " " + o.class_name);
  if (o.class_name == "L1") v = RegularizerOption(L1(args.get("l1", 0.01f)));
  else if (o.class_name == "L2") v = RegularizerOption(L2(args.get("l2", 0.01f)));
  else if (o.class_name == "L1L2") {
    const float l1 = args.get("l1", 0.0f), l2 = args.get("l2", 0.0f);
    v = RegularizerOption(std::make_shared<L1L2>(l1, l2));
  } else
    fail(at.owner, std::string(at.key) + ": unknown regularizer class '" + o.class_name + "'; known: L1, L1L2, L2");
  args.finish();
}

// ---- constraints ----

namespace {
Json constraint_json(const std::string& class_name, Json config) {
  return Json{{"module", "keras.constraints"}, {"class_name", class_name}, {"config", std::move(config)}, {"registered_name", nullptr}};
}
}  // namespace

Json encode(const ConstraintOption& v, Where at) {
  if (!v) return nullptr;
  const Constraint& c = *v;
  if (typeid(c) == typeid(MaxNorm)) {
    const auto& m = static_cast<const MaxNorm&>(c);
    return constraint_json("MaxNorm", Json{{"max_value", shortest_decimal(m.max_value())}, {"axis", axis_json(m.axes())}});
  }
  if (typeid(c) == typeid(NonNeg)) return constraint_json("NonNeg", Json::object());
  if (typeid(c) == typeid(UnitNorm))
    return constraint_json("UnitNorm", Json{{"axis", axis_json(static_cast<const UnitNorm&>(c).axes())}});
  if (typeid(c) == typeid(MinMaxNorm)) {
    const auto& m = static_cast<const MinMaxNorm&>(c);
    return constraint_json("MinMaxNorm", Json{{"min_value", shortest_decimal(m.min_value())},
                                              {"max_value", shortest_decimal(m.max_value())},
                                              {"rate", shortest_decimal(m.rate())},
                                              {"axis", axis_json(m.axes())}});
  }
  fail(at.owner, std::string(at.key) + " is a custom constraint; Keras' JSON holds MaxNorm, MinMaxNorm, NonNeg and UnitNorm only");
}

void decode(const Json& j, ConstraintOption& v, Where at) {
  if (j.is_null()) {
    v = nullptr;
    return;
  }
  const ObjectJson o = object_json(j, at, "a constraint");
  if (j.is_string()) {
    try {
      v = ConstraintOption(o.class_name);
    } catch (const Error& e) {
      fail(at.owner, std::string(at.key) + ": " + e.what());
    }
    return;
  }
  Arguments args(o.config, at.owner + ": " + at.key + " " + o.class_name);
  if (o.class_name == "MaxNorm") {
    const float max_value = args.get("max_value", 2.0f);
    v = ConstraintOption(std::make_shared<MaxNorm>(max_value, args.get("axis", std::vector<int>{0})));
  } else if (o.class_name == "NonNeg") {
    v = ConstraintOption(std::make_shared<NonNeg>());
  } else if (o.class_name == "UnitNorm") {
    v = ConstraintOption(std::make_shared<UnitNorm>(args.get("axis", std::vector<int>{0})));
  } else if (o.class_name == "MinMaxNorm") {
    const float lo = args.get("min_value", 0.0f), hi = args.get("max_value", 1.0f), rate = args.get("rate", 1.0f);
    v = ConstraintOption(std::make_shared<MinMaxNorm>(lo, hi, rate, args.get("axis", std::vector<int>{0})));
  } else {
    fail(at.owner, std::string(at.key) + ": unknown constraint class '" + o.class_name +
                       "'; known: MaxNorm, MinMaxNorm, NonNeg, UnitNorm");
  }
  args.finish();
}

// ---- the reader's checks ----

void ConfigReader::fixed(const char* key, const Json& value) {
  known_.push_back(key);
  if (config_.contains(key) && config_.at(key) != value)
    fail(owner_, std::string(key) + " " + config_.at(key).dump() + " is not supported; tapegrad supports " + value.dump());
}

const Json& ConfigReader::raw(const char* key) const {
  static const Json null_value;
  return config_.contains(key) ? config_.at(key) : null_value;
}

void ConfigReader::finish() const {
  for (const auto& [key, value] : config_.items()) {
    bool found = false;
    for (const auto& k : known_) found = found || k == key;
    if (!found) fail(owner_, "unknown option '" + key + "' (" + describe_value(value) + "); it takes: " + joined(known_));
  }
}

}  // namespace tapegrad::keras_json
