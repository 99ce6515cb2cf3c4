#pragma once
// Checkpoints: everything needed to continue training as if never stopped — the model's weights
// and buffers (by name, with shapes), the optimizer's state, every random generator, the data
// loader's position, the epoch/step and metric history, and user values — in a Boost.Serialization
// archive framed by a magic string, a format version, the content length and a checksum.
//
// Writes go to a temporary file in the same folder, are flushed to disk, then renamed over the
// old file: a crash mid-write leaves the previous checkpoint intact. Loading checks everything
// (file type, version, length, checksum, names and shapes) before it changes anything: on any
// error the model, optimizer and loader are exactly as they were.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tapegrad/core/rng.h"
#include "tapegrad/data/data_loader.h"
#include "tapegrad/layers/layer.h"
#include "tapegrad/optim/optimizer.h"

namespace tapegrad {

// Where training stands, beyond the weights: what a training loop saves and restores.
struct TrainingProgress {
  int64_t epoch = 0;
  int64_t step = 0;
  std::map<std::string, std::vector<double>> history;  // per-epoch metrics, e.g. "loss"
  std::map<std::string, double> values;                // anything else the user wants back
  bool operator==(const TrainingProgress&) const = default;
};

enum class ArchiveFormat { kBinary, kText, kXml };

struct SaveOptions {
  ArchiveFormat format = ArchiveFormat::kBinary;  // text and XML are readable by people
  // A model whose weights hold NaN or Inf is refused (an error that writes nothing), so a run that
  // diverged never replaces its last good checkpoint; true writes it anyway (for debugging).
  bool allow_non_finite = false;
};

struct LoadOptions {
  // Strict: every saved weight must exist in the model with the same shape and every model weight
  // must be in the file. Not strict: names on one side only are skipped (shapes must still match).
  bool strict = true;
};

// What a checkpoint refers to; any pointer may be null (not saved / not restored).
struct TrainingState {
  Layer* model = nullptr;
  Optimizer* optimizer = nullptr;
  data::DataLoader* loader = nullptr;
  TrainingProgress* progress = nullptr;
  // Generators to save besides default_rng() and the model's own (e.g. a shuffling Rng of a
  // hand-written loop), by name.
  std::map<std::string, Rng*> rngs;
};

void save_checkpoint(const std::string& path, const TrainingState& state, const SaveOptions& options = {});
void load_checkpoint(const std::string& path, const TrainingState& state, const LoadOptions& options = {});

// The first parameter of `model` holding NaN or Inf, or "" when every weight is finite.
std::string first_non_finite_weight(const Layer& model);

// Weights (and buffers) only: for inference or fine-tuning.
void save_weights(const std::string& path, const Layer& model, const SaveOptions& options = {});
// Returns the names that were skipped (non-strict): saved-but-unknown and model-but-missing.
[[nodiscard]] std::vector<std::string> load_weights(const std::string& path, Layer& model, const LoadOptions& options = {});

// The format version this build writes; it reads every version up to it. Version 2: parameter
// names are paths from the model ("block1/conv1/kernel") and optimizer slots are keyed by them;
// a version-1 file loads where its flat names agree and otherwise says how to convert it.
constexpr uint32_t kCheckpointFormatVersion = 2;

}  // namespace tapegrad
