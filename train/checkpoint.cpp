#include "tapegrad/train/checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/archive/text_iarchive.hpp>
#include <boost/archive/text_oarchive.hpp>
#include <boost/archive/xml_iarchive.hpp>
#include <boost/archive/xml_oarchive.hpp>
#include <boost/serialization/map.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <boost/serialization/version.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/read_file.h"
#include "tapegrad/distributed/distributed.h"
#include "tapegrad/core/error.h"

namespace tapegrad {

namespace {

// ---- the content: plain values, each class versioned so newer code reads older files ----

struct TensorRecord {
  std::vector<int64_t> shape;
  std::vector<float> values;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& BOOST_SERIALIZATION_NVP(shape) & BOOST_SERIALIZATION_NVP(values);
  }
};

struct RngRecord {
  uint64_t seed = 0, counter = 0;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& BOOST_SERIALIZATION_NVP(seed) & BOOST_SERIALIZATION_NVP(counter);
  }
};

struct OptimizerRecord {
  std::string optimizer;
  int64_t iterations = 0;
  std::vector<std::string> slot_names, parameter_names;
  std::vector<std::vector<TensorRecord>> slots;
  std::vector<double> globals;
  bool has_learning_rate = false;
  float learning_rate = 0.0f;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& BOOST_SERIALIZATION_NVP(optimizer) & BOOST_SERIALIZATION_NVP(iterations) & BOOST_SERIALIZATION_NVP(slot_names) &
        BOOST_SERIALIZATION_NVP(parameter_names) & BOOST_SERIALIZATION_NVP(slots) & BOOST_SERIALIZATION_NVP(globals) &
        BOOST_SERIALIZATION_NVP(has_learning_rate) & BOOST_SERIALIZATION_NVP(learning_rate);
  }
};

struct Content {
  uint32_t format_version = kCheckpointFormatVersion;  // of the file it was read from; not stored
  std::vector<std::string> weight_names;
  std::vector<TensorRecord> weights;
  bool has_optimizer = false;
  OptimizerRecord optimizer;
  std::vector<std::string> rng_names;
  std::vector<RngRecord> rngs;
  bool has_loader = false;
  int64_t loader_epoch = 0, loader_batch = 0;
  // What the loader's position means (class version 2): a resume with other values would
  // reinterpret it.
  bool has_loader_meaning = false;
  int64_t loader_batch_size = 0, loader_dataset_size = 0;
  uint64_t loader_seed = 0;
  bool loader_shuffle = false, loader_drop_last = false;
  std::string loader_transform;
  bool has_progress = false;
  int64_t epoch = 0, step = 0;
  std::map<std::string, std::vector<double>> history;
  std::map<std::string, double> values;
  // The states stateful layers carry between calls (class version 3), by path.
  std::vector<std::string> state_names;
  std::vector<TensorRecord> states;
  template <class A>
  void serialize(A& ar, unsigned version) {
    ar& BOOST_SERIALIZATION_NVP(weight_names) & BOOST_SERIALIZATION_NVP(weights) & BOOST_SERIALIZATION_NVP(has_optimizer) &
        BOOST_SERIALIZATION_NVP(optimizer) & BOOST_SERIALIZATION_NVP(rng_names) & BOOST_SERIALIZATION_NVP(rngs) &
        BOOST_SERIALIZATION_NVP(has_loader) & BOOST_SERIALIZATION_NVP(loader_epoch) & BOOST_SERIALIZATION_NVP(loader_batch) &
        BOOST_SERIALIZATION_NVP(has_progress) & BOOST_SERIALIZATION_NVP(epoch) & BOOST_SERIALIZATION_NVP(step) &
        BOOST_SERIALIZATION_NVP(history) & BOOST_SERIALIZATION_NVP(values);
    if (version >= 2)
      ar& BOOST_SERIALIZATION_NVP(has_loader_meaning) & BOOST_SERIALIZATION_NVP(loader_batch_size) &
          BOOST_SERIALIZATION_NVP(loader_dataset_size) & BOOST_SERIALIZATION_NVP(loader_seed) &
          BOOST_SERIALIZATION_NVP(loader_shuffle) & BOOST_SERIALIZATION_NVP(loader_drop_last) &
          BOOST_SERIALIZATION_NVP(loader_transform);
    if (version >= 3) ar& BOOST_SERIALIZATION_NVP(state_names) & BOOST_SERIALIZATION_NVP(states);
  }
};

}  // namespace
}  // namespace tapegrad

BOOST_CLASS_VERSION(tapegrad::TensorRecord, 1)
BOOST_CLASS_VERSION(tapegrad::RngRecord, 1)
BOOST_CLASS_VERSION(tapegrad::OptimizerRecord, 1)
BOOST_CLASS_VERSION(tapegrad::Content, 3)

namespace tapegrad {

namespace {

// ---- the frame: magic, version, archive format, kind, length, content, checksum ----

constexpr char kMagic[10] = {'T', 'G', 'C', 'K', 'P', 'T', '\r', '\n', '\x1a', '\n'};
constexpr size_t kHeaderSize = 10 + 4 + 1 + 1 + 8;
constexpr size_t kTrailerSize = 4;
enum Kind : uint8_t { kFull = 1, kWeightsOnly = 2 };

template <class T>
void put(std::string& out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff));
}
template <class T>
T get(const std::string& in, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return static_cast<T>(v);
}

uint32_t checksum(const char* data, size_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (n > 0) {  // crc32 takes 32-bit lengths
    const uInt chunk = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data), chunk);
    data += chunk;
    n -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

std::string serialize_content(const Content& c, ArchiveFormat format) {
  std::ostringstream os(std::ios::binary);
  {
    if (format == ArchiveFormat::kBinary) {
      boost::archive::binary_oarchive ar(os);
      ar << boost::serialization::make_nvp("checkpoint", c);
    } else if (format == ArchiveFormat::kText) {
      boost::archive::text_oarchive ar(os);
      ar << boost::serialization::make_nvp("checkpoint", c);
    } else {
      boost::archive::xml_oarchive ar(os);
      ar << boost::serialization::make_nvp("checkpoint", c);
    }
  }
  return os.str();
}

// A writer killed between mkstemp and rename leaves "<name>.tmp-XXXXXX" behind; the next write
// that succeeds removes every such file of the same target (two processes writing one checkpoint
// at once were never supported: the last rename wins).
void remove_stale_temporaries(const std::filesystem::path& dir, const std::string& name) {
  namespace fs = std::filesystem;
  const std::string prefix = name + ".tmp-";
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().string();
    if (file.size() == prefix.size() + 6 && file.compare(0, prefix.size(), prefix) == 0 && it->is_regular_file(ec)) {
      std::error_code ignored;  // best effort: a file that cannot be removed stays, as before
      fs::remove(it->path(), ignored);
    }
  }
}

// Writes `bytes` to `path` atomically: a temporary file in the same folder, fsync, rename.
void write_atomically(const std::string& path, const std::string& bytes, const char* op) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmp = (dir / (target.filename().string() + ".tmp-XXXXXX")).string();
  const int fd = mkstemp(tmp.data());
  if (fd < 0) fail(op, "cannot create a temporary file next to '" + path + "': " + std::strerror(errno));
  // mkstemp creates the file 0600; give the checkpoint the permissions a plain new file would get.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      fail(op, "cannot write '" + tmp + "': " + why);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    fail(op, "cannot flush '" + tmp + "' to disk");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    fail(op, "cannot rename '" + tmp + "' to '" + path + "': " + why);
  }
  // Make the rename itself durable.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  remove_stale_temporaries(dir, target.filename().string());
}

void write_file(const std::string& path, const Content& c, Kind kind, const SaveOptions& options, const char* op) {
  const std::string payload = serialize_content(c, options.format);
  std::string out(kMagic, sizeof kMagic);
  put<uint32_t>(out, kCheckpointFormatVersion);
  put<uint8_t>(out, static_cast<uint8_t>(options.format));
  put<uint8_t>(out, kind);
  put<uint64_t>(out, payload.size());
  out += payload;
  put<uint32_t>(out, checksum(out.data(), out.size()));  // covers the header too
  write_atomically(path, out, op);
}

// The file's bytes, read on rank 0 and sent to the other ranks of a distributed job (no shared
// file system needed); an error reading it is an error on every rank.
std::string read_on_root(const std::string& path, const char* op) {
  if (distributed::size() == 1) return read_whole_file(path, op);
  std::string bytes, error;
  if (distributed::is_root()) {
    try {
      bytes = read_whole_file(path, op);
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  distributed::agree(error);
  distributed::broadcast(bytes);
  return bytes;
}

Content read_file(const std::string& path, Kind* kind, const char* op) {
  const std::string bytes = read_on_root(path, op);
  if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    fail(op, "'" + path + "' is not a tapegrad checkpoint (wrong magic bytes at offset 0)");
  if (bytes.size() < kHeaderSize + kTrailerSize)
    fail(op, "'" + path + "' is truncated: " + std::to_string(bytes.size()) + " bytes, a checkpoint has at least " +
                 std::to_string(kHeaderSize + kTrailerSize));
  const auto version = get<uint32_t>(bytes, 10);
  if (version == 0 || version > kCheckpointFormatVersion)
    fail(op, "'" + path + "' has format version " + std::to_string(version) + "; this build reads versions 1 to " +
                 std::to_string(kCheckpointFormatVersion) + " (written by a newer tapegrad?)");
  const auto format = get<uint8_t>(bytes, 14);
  *kind = static_cast<Kind>(get<uint8_t>(bytes, 15));
  const auto length = get<uint64_t>(bytes, 16);
  if (format > 2 || (*kind != kFull && *kind != kWeightsOnly))
    fail(op, "'" + path + "' has an unknown archive format or kind in its header (offset 14)");
  if (length != bytes.size() - kHeaderSize - kTrailerSize)
    fail(op, "'" + path + "' is truncated or padded: the header announces " + std::to_string(length) + " bytes of content, the file holds " +
                 std::to_string(bytes.size() - kHeaderSize - kTrailerSize));
  if (checksum(bytes.data(), kHeaderSize + length) != get<uint32_t>(bytes, kHeaderSize + length))
    fail(op, "'" + path + "' is corrupt: the checksum of its content does not match");
  Content c;
  c.format_version = version;
  try {
    std::istringstream is(bytes.substr(kHeaderSize, length), std::ios::binary);
    if (format == static_cast<uint8_t>(ArchiveFormat::kBinary)) {
      boost::archive::binary_iarchive ar(is);
      ar >> boost::serialization::make_nvp("checkpoint", c);
    } else if (format == static_cast<uint8_t>(ArchiveFormat::kText)) {
      boost::archive::text_iarchive ar(is);
      ar >> boost::serialization::make_nvp("checkpoint", c);
    } else {
      boost::archive::xml_iarchive ar(is);
      ar >> boost::serialization::make_nvp("checkpoint", c);
    }
  } catch (const std::exception& e) {
    fail(op, "'" + path + "' is corrupt: its archive cannot be read (" + e.what() + ")");
  }
  if (c.weight_names.size() != c.weights.size() || c.rng_names.size() != c.rngs.size())
    fail(op, "'" + path + "' is corrupt: names and values do not pair up");
  {
    std::set<std::string> names;
    for (const auto& n : c.weight_names)
      if (!names.insert(n).second) fail(op, "'" + path + "' names the weight '" + n + "' twice: it cannot be loaded by name");
  }
  for (size_t i = 0; i < c.weights.size(); ++i) {
    int64_t n = 1;
    for (int64_t d : c.weights[i].shape) n = d < 0 ? -1 : n * d;
    if (n < 0 || c.weights[i].shape.size() > static_cast<size_t>(kMaxDims) || static_cast<size_t>(n) != c.weights[i].values.size())
      fail(op, "'" + path + "' is corrupt: weight '" + c.weight_names[i] + "' has a shape that does not match its values");
  }
  return c;
}

TensorRecord record_of(const Tensor& t) { return {t.shape().to_vector(), t.to_vector()}; }
Tensor tensor_of(const TensorRecord& r) { return Tensor::from(Shape(r.shape), r.values); }

// The generators of a run: default_rng(), the model's layers' and the caller's.
std::map<std::string, Rng*> generators(const TrainingState& s) {
  std::map<std::string, Rng*> all = s.rngs;
  all["default_rng"] = &default_rng();
  if (s.model)
    for (auto& [name, rng] : s.model->random_generators()) all[name] = rng;
  return all;
}

// The model's carried states (stateful layers) that have a value.
void fill_states(Content& c, Layer& model) {
  for (auto& [name, slot] : model.carried_states())
    if (slot.value->defined()) {
      c.state_names.push_back(name);
      c.states.push_back(record_of(*slot.value));
    }
}

// Checks the file's carried states against the model's slots (a name it has, (batch, width)),
// changing nothing. Returns the file's index per model slot, or -1: a slot the file has no state
// for starts from zeros, as when it was saved.
std::vector<int> plan_states(const Content& c, Layer& model, const LoadOptions& options, const std::string& path, const char* op) {
  const auto slots = model.carried_states();
  std::map<std::string, size_t> in_file;
  for (size_t i = 0; i < c.state_names.size(); ++i) in_file[c.state_names[i]] = i;
  std::vector<int> plan;
  std::set<std::string> used;
  for (const auto& [name, slot] : slots) {
    const auto it = in_file.find(name);
    plan.push_back(it == in_file.end() ? -1 : static_cast<int>(it->second));
    if (it == in_file.end()) continue;
    used.insert(name);
    const auto& shape = c.states[it->second].shape;
    if (shape.size() != 2 || shape[1] != slot.width)
      fail(op, "'" + path + "' has the state '" + name + "' " + Shape(shape).str() + ", the layer carries (batch, " +
                   std::to_string(slot.width) + ")");
  }
  for (const auto& n : c.state_names)
    if (!used.count(n) && options.strict)
      fail(op, "'" + path + "' has the state '" + n + "' of a stateful layer the model does not have (strict)");
  return plan;
}

void apply_states(const Content& c, Layer& model, const std::vector<int>& plan) {
  const auto slots = model.carried_states();
  for (size_t i = 0; i < slots.size(); ++i)
    *slots[i].second.value = plan[i] >= 0 ? tensor_of(c.states[static_cast<size_t>(plan[i])]) : Tensor();
}

// What a file of an older format means for names that do not match.
std::string format_hint(const Content& c) {
  if (c.format_version >= 2) return "";
  return " (the file has format version " + std::to_string(c.format_version) +
         ", written before parameter names became paths from the model, e.g. 'stage1_block1/conv1/kernel' "
         "instead of per-process names such as 'conv2d_3/kernel'; weights whose names agree still load. To "
         "convert it, load it with {.strict = false} into a model whose layers carry the old names (the "
         "layers' .name option), copy the weights into today's model and save a new checkpoint)";
}

void check_finite_weights(const Layer& model, const SaveOptions& options, const std::string& path, const char* op) {
  if (options.allow_non_finite) return;
  const std::string bad = first_non_finite_weight(model);
  if (!bad.empty())
    fail(op, "the weight '" + bad + "' holds NaN or Inf (training diverged?); refusing to write '" + path +
                 "', which keeps what it held (SaveOptions{.allow_non_finite = true} writes it anyway)");
}

// In a distributed job rank 0 writes the file and the others wait for the outcome: an error
// writing it (a weight that is not finite, a full disk) is the same error on every rank.
template <class Write>
void write_on_root(Write write) {
  if (distributed::size() == 1) return write();
  std::string error;
  if (distributed::is_root()) {
    try {
      write();
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  distributed::agree(error);
}

void fill_weights(Content& c, const Layer& model, const SaveOptions& options, const std::string& path, const char* op) {
  check_finite_weights(model, options, path, op);
  for (const auto& p : model.parameters()) {
    c.weight_names.push_back(p->name);
    c.weights.push_back(record_of(p->var.value()));
  }
}

// Matches the file's weights to the model's and returns, per model parameter, the file's index
// (or -1). Throws, changing nothing, on any shape mismatch, and (strict) on any missing/extra name.
std::vector<int> plan_weights(const Content& c, const Layer& model, const LoadOptions& options, const std::string& path,
                              const char* op, std::vector<std::string>* skipped) {
  std::map<std::string, size_t> in_file;
  for (size_t i = 0; i < c.weight_names.size(); ++i) in_file[c.weight_names[i]] = i;
  std::vector<int> plan;
  std::vector<std::string> missing, mismatched;
  std::set<std::string> used;
  for (const auto& p : model.parameters()) {
    const auto it = in_file.find(p->name);
    if (it == in_file.end()) {
      missing.push_back(p->name);
      plan.push_back(-1);
      continue;
    }
    used.insert(p->name);
    const Shape want = p->var.shape();
    if (Shape(c.weights[it->second].shape) != want)
      mismatched.push_back("'" + p->name + "' is " + Shape(c.weights[it->second].shape).str() + " in the file, " + want.str() +
                           " in the model");
    plan.push_back(static_cast<int>(it->second));
  }
  std::vector<std::string> extra;
  for (const auto& n : c.weight_names)
    if (!used.count(n)) extra.push_back(n);
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  };
  if (!mismatched.empty()) fail(op, "'" + path + "' does not match the model: " + join(mismatched) + format_hint(c));
  if (options.strict && (!missing.empty() || !extra.empty()))
    fail(op, "'" + path + "' does not match the model (strict):" +
                 (missing.empty() ? std::string() : " missing in the file: " + join(missing) + ";") +
                 (extra.empty() ? std::string() : " not in the model: " + join(extra)) + format_hint(c));
  if (skipped) {
    *skipped = missing;
    skipped->insert(skipped->end(), extra.begin(), extra.end());
  }
  return plan;
}

void apply_weights(const Content& c, Layer& model, const std::vector<int>& plan) {
  const auto params = model.parameters();
  for (size_t i = 0; i < params.size(); ++i)
    if (plan[i] >= 0) params[i]->var.value().copy_from(tensor_of(c.weights[static_cast<size_t>(plan[i])]));
}

OptimizerState optimizer_state_of(const OptimizerRecord& r) {
  OptimizerState s;
  s.optimizer = r.optimizer;
  s.iterations = r.iterations;
  s.slot_names = r.slot_names;
  s.parameter_names = r.parameter_names;
  for (const auto& row : r.slots) {
    s.slots.emplace_back();
    for (const auto& t : row) s.slots.back().push_back(tensor_of(t));
  }
  s.globals = r.globals;
  if (r.has_learning_rate) s.learning_rate = r.learning_rate;
  return s;
}

}  // namespace

namespace {
void write_checkpoint(const std::string& path, const TrainingState& s, const SaveOptions& options) {
  Content c;
  if (s.model) fill_weights(c, *s.model, options, path, "save_checkpoint");
  if (s.model) fill_states(c, *s.model);
  if (s.optimizer) {
    const OptimizerState o = s.optimizer->state();
    c.has_optimizer = true;
    c.optimizer = {o.optimizer, o.iterations, o.slot_names, o.parameter_names, {}, o.globals, o.learning_rate.has_value(),
                   o.learning_rate.value_or(0.0f)};
    for (const auto& row : o.slots) {
      c.optimizer.slots.emplace_back();
      for (const auto& t : row) c.optimizer.slots.back().push_back(record_of(t));
    }
  }
  for (const auto& [name, rng] : generators(s)) {
    c.rng_names.push_back(name);
    c.rngs.push_back({rng->state().seed, rng->state().counter});
  }
  if (s.loader) {
    c.has_loader = true;
    c.loader_epoch = s.loader->state().epoch;
    c.loader_batch = s.loader->state().batch;
    const auto& o = s.loader->options();
    c.has_loader_meaning = true;
    c.loader_batch_size = o.batch_size;
    c.loader_dataset_size = s.loader->dataset().size();
    c.loader_seed = o.seed;
    c.loader_shuffle = o.shuffle;
    c.loader_drop_last = o.drop_last;
    c.loader_transform = o.transform.description();
  }
  if (s.progress) {
    c.has_progress = true;
    c.epoch = s.progress->epoch;
    c.step = s.progress->step;
    c.history = s.progress->history;
    c.values = s.progress->values;
  }
  write_file(path, c, kFull, options, "save_checkpoint");
}
}  // namespace

void save_checkpoint(const std::string& path, const TrainingState& s, const SaveOptions& options) {
  write_on_root([&] { write_checkpoint(path, s, options); });
}

namespace {
// The saved position is a batch index into a shuffled order of a dataset: it means the same only
// with the same batch size, dataset, seed, order and augmentation.
void check_loader_meaning(const Content& c, const data::DataLoader& loader, const std::string& path, const char* op) {
  const auto& o = loader.options();
  auto differs = [&](const std::string& what, const std::string& saved, const std::string& now) {
    fail(op, "'" + path + "' was saved with a data loader whose " + what + " was " + saved + "; this one's is " + now +
                 ": resuming would reinterpret the saved position (batch " + std::to_string(c.loader_batch) +
                 " of epoch " + std::to_string(c.loader_epoch) + "). Use the same option as the saved run, or start a new run");
  };
  auto flag = [](bool b) { return std::string(b ? "true" : "false"); };
  if (c.loader_batch_size != o.batch_size)
    differs("batch_size", std::to_string(c.loader_batch_size), std::to_string(o.batch_size));
  if (c.loader_dataset_size != loader.dataset().size())
    differs("dataset size (a data limit?)", std::to_string(c.loader_dataset_size), std::to_string(loader.dataset().size()));
  if (c.loader_seed != o.seed) differs("shuffle seed", std::to_string(c.loader_seed), std::to_string(o.seed));
  if (c.loader_shuffle != o.shuffle) differs("shuffle", flag(c.loader_shuffle), flag(o.shuffle));
  if (c.loader_drop_last != o.drop_last) differs("drop_last", flag(c.loader_drop_last), flag(o.drop_last));
  if (c.loader_transform != o.transform.description())
    differs("transform", "'" + c.loader_transform + "'", "'" + o.transform.description() + "'");
}
}  // namespace

void load_checkpoint(const std::string& path, const TrainingState& s, const LoadOptions& options) {
  const char* op = "load_checkpoint";
  Kind kind;
  const Content c = read_file(path, &kind, op);
  if (kind != kFull) fail(op, "'" + path + "' holds weights only; use load_weights()");
  // 1. Check everything that can fail.
  std::vector<int> plan, state_plan;
  if (s.model) plan = plan_weights(c, *s.model, options, path, op, nullptr);
  if (s.model) state_plan = plan_states(c, *s.model, options, path, op);
  if (s.optimizer && !c.has_optimizer) fail(op, "'" + path + "' holds no optimizer state");
  if (s.loader && !c.has_loader) fail(op, "'" + path + "' holds no data loader position");
  if (s.progress && !c.has_progress) fail(op, "'" + path + "' holds no training progress");
  if (s.loader && c.has_loader_meaning) check_loader_meaning(c, *s.loader, path, op);
  if (s.loader && (c.loader_batch < 0 || c.loader_batch > s.loader->batches_per_epoch() || c.loader_epoch < 0))
    fail(op, "'" + path + "' has the loader at batch " + std::to_string(c.loader_batch) + " but an epoch of this loader has " +
                 std::to_string(s.loader->batches_per_epoch()) + " batches (a different dataset or batch size?)");
  const auto gens = generators(s);
  std::map<std::string, RngRecord> saved_rngs;
  for (size_t i = 0; i < c.rng_names.size(); ++i) saved_rngs[c.rng_names[i]] = c.rngs[i];
  for (const auto& [name, rng] : gens)
    if (!saved_rngs.count(name) && options.strict)
      fail(op, "'" + path + "' has no state for the random generator '" + name + "'");
  // 2. The optimizer checks its own state and changes nothing on a mismatch; it goes first.
  if (s.optimizer) {
    try {
      s.optimizer->load_state(optimizer_state_of(c.optimizer));
    } catch (const Error& e) {
      fail(op, "'" + path + "': " + e.what() + format_hint(c));
    }
  }
  // 3. Nothing below can fail.
  if (s.model) apply_weights(c, *s.model, plan);
  if (s.model) apply_states(c, *s.model, state_plan);
  for (const auto& [name, rng] : gens)
    if (const auto it = saved_rngs.find(name); it != saved_rngs.end()) rng->set_state({it->second.seed, it->second.counter});
  if (s.loader) s.loader->set_state({c.loader_epoch, c.loader_batch});
  if (s.progress) *s.progress = {c.epoch, c.step, c.history, c.values};
}

std::string first_non_finite_weight(const Layer& model) {
  for (const auto& p : model.parameters()) {
    const float* v = p->var.value().data();
    for (int64_t i = 0, n = p->var.numel(); i < n; ++i)
      if (!std::isfinite(v[i])) return p->name;
  }
  return "";
}

void save_weights(const std::string& path, const Layer& model, const SaveOptions& options) {
  write_on_root([&] {
    Content c;
    fill_weights(c, model, options, path, "save_weights");
    write_file(path, c, kWeightsOnly, options, "save_weights");
  });
}

std::vector<std::string> load_weights(const std::string& path, Layer& model, const LoadOptions& options) {
  Kind kind;
  const Content c = read_file(path, &kind, "load_weights");
  std::vector<std::string> skipped;
  const auto plan = plan_weights(c, model, options, path, "load_weights", &skipped);
  apply_weights(c, model, plan);
  return skipped;
}

}  // namespace tapegrad
