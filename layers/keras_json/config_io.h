#pragma once
// Reading and writing one Keras layer config ({"filters": 32, "kernel_size": [3, 3], ...}).
// A layer family describes its fields once, as a template over the direction:
//
//   template <class IO> void dense_fields(IO& io, DenseArgs& a) {
//     io("units", a.units);
//     io("activation", a.options.activation);
//     ...
//   }
//
// ConfigWriter puts each field into the JSON object (in the order described, which is Keras');
// ConfigReader takes each from it, converting and checking its type, and finish() refuses keys no
// field asked for, listing the ones the layer knows. So the two directions cannot disagree on a
// key. Internal: nlohmann/json stays out of the public headers.
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tapegrad/layers/activation.h"
#include "tapegrad/layers/constraint.h"
#include "tapegrad/layers/conv_options.h"
#include "tapegrad/layers/initializer.h"
#include "tapegrad/layers/regularizer.h"

namespace tapegrad::keras_json {

using Json = nlohmann::ordered_json;  // keeps keys in Keras' order

// Where a value sits, for error messages: "Conv2D 'conv2d': kernel_size".
struct Where {
  const std::string& owner;
  const char* key;
  std::string str() const { return owner + ": " + key; }
};

// The value conversions, one pair per option type. encode() of an object that Keras' JSON cannot
// hold (a custom callable, a parameterized activation) is an error naming it.
Json encode(int64_t v, Where);
Json encode(int v, Where);
Json encode(uint64_t v, Where);  // seeds
Json encode(float v, Where);  // the decimal it was written as: 0.5f -> 0.5
Json encode(double v, Where);
Json encode(bool v, Where);
Json encode(const std::string& v, Where);
Json encode(const IntTuple& v, Where);  // [3, 3]; Keras' None when empty
Json encode(const std::vector<int64_t>& v, Where);
Json encode(const std::vector<int>& v, Where);
Json encode(const Activation& v, Where);
Json encode(const Initializer& v, Where);
Json encode(const RegularizerOption& v, Where);
Json encode(const ConstraintOption& v, Where);

void decode(const Json& j, int64_t& v, Where);
void decode(const Json& j, int& v, Where);
void decode(const Json& j, uint64_t& v, Where);  // a seed: a non-negative integer
void decode(const Json& j, float& v, Where);
void decode(const Json& j, double& v, Where);
void decode(const Json& j, bool& v, Where);
void decode(const Json& j, std::string& v, Where);
void decode(const Json& j, IntTuple& v, Where);  // an integer or a list of them; null: empty
void decode(const Json& j, std::vector<int64_t>& v, Where);
void decode(const Json& j, std::vector<int>& v, Where);  // an integer is a list of one
void decode(const Json& j, Activation& v, Where);
void decode(const Json& j, Initializer& v, Where);
void decode(const Json& j, RegularizerOption& v, Where);
void decode(const Json& j, ConstraintOption& v, Where);

// "a list of 2 integers", "null", "the string \"same\"": what a value is, for errors.
std::string describe_value(const Json& j);
// "a, b, c", for the lists of known names in errors.
std::string joined(const std::vector<std::string>& names);

class ConfigWriter {
 public:
  ConfigWriter(Json& config, std::string owner) : config_(config), owner_(std::move(owner)) {}
  template <class T>
  void operator()(const char* key, const T& value) {
    config_[key] = encode(value, Where{owner_, key});
  }
  // A key Keras has whose value tapegrad supports only one of (Conv2D's groups = 1).
  void fixed(const char* key, const Json& value) { config_[key] = value; }
  // A key whose value reads back as something else (see ConfigReader::optional).
  template <class T>
  void optional(const char* key, const std::optional<T>& value) {
    config_[key] = value ? encode(*value, Where{owner_, key}) : Json(nullptr);
  }
  // A key Keras writes that tapegrad does not read back (SeparableConv's unused kernel_initializer).
  void informational(const char* key, const Json& value) { config_[key] = value; }
  const std::string& owner() const { return owner_; }

 private:
  Json& config_;
  std::string owner_;
};

class ConfigReader {
 public:
  ConfigReader(const Json& config, std::string owner) : config_(config), owner_(std::move(owner)) {}
  // A missing key keeps the default the value already holds (Keras' from_config: cls(**config)).
  template <class T>
  void operator()(const char* key, T& value) {
    known_.push_back(key);
    if (config_.contains(key)) decode(config_.at(key), value, Where{owner_, key});
  }
  void fixed(const char* key, const Json& value);
  template <class T>
  void optional(const char* key, std::optional<T>& value) {
    known_.push_back(key);
    if (config_.contains(key) && !config_.at(key).is_null()) {
      T v{};
      decode(config_.at(key), v, Where{owner_, key});
      value = v;
    }
  }
  // Keys Keras writes that tapegrad reads past (they change nothing here).
  void ignored(const char* key) { known_.push_back(key); }
  void informational(const char* key, const Json&) { ignored(key); }
  // The raw value of a key (null when absent), for fields a family reads itself.
  const Json& raw(const char* key) const;
  bool has(const char* key) const { return config_.contains(key); }
  // Every key of the config must have been asked for: an unknown option is an error listing the
  // known ones.
  void finish() const;
  const std::string& owner() const { return owner_; }

 private:
  const Json& config_;
  std::string owner_;
  std::vector<std::string> known_;
};

// The keys Dense, the convolutions and LocallyConnected write in this order after their own:
// activation, use_bias, then the kernel's and bias's initializers, regularizers (and the
// activity's) and constraints. Any options struct with those members.
template <class IO, class Options>
void activation_and_weight_fields(IO& io, Options& o) {
  io("activation", o.activation);
  io("use_bias", o.use_bias);
  io("kernel_initializer", o.kernel_initializer);
  io("bias_initializer", o.bias_initializer);
  io("kernel_regularizer", o.kernel_regularizer);
  io("bias_regularizer", o.bias_regularizer);
  io("activity_regularizer", o.activity_regularizer);
  io("kernel_constraint", o.kernel_constraint);
  io("bias_constraint", o.bias_constraint);
}

// Keras' Initializer / regularizer / constraint JSON: {"module", "class_name", "config",
// "registered_name"}; read back also from the legacy {"class_name", "config"} and from a name.
Json keras_object(const std::string& module, const KerasObjectConfig& object);

}  // namespace tapegrad::keras_json
