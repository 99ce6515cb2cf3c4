// Checkpoints: exact resume, text/XML archives, weights only, every kind of bad file (with the
// model untouched), a writer killed mid-write, and a deterministic mutation fuzz of the loader.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <limits>
#include <fstream>

#include "../temp_dir.h"
#include "../error_matchers.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/data/data_loader.h"
#include "tapegrad/layers/dense.h"
#include "tapegrad/layers/dropout.h"
#include "tapegrad/layers/sequential.h"
#include "tapegrad/optim/adam.h"
#include "tapegrad/optim/sgd.h"
#include "tapegrad/train/checkpoint.h"
#include "tapegrad/train/losses.h"

namespace tg = tapegrad;
namespace td = tapegrad::data;
namespace fs = std::filesystem;
using tg::Tensor;
using tg::Variable;

namespace {

fs::path temp_dir(const std::string& name) { return tg::testing::temp_dir("ckpt_" + name); }

std::shared_ptr<td::TensorDataset> dataset() {
  tg::Rng rng(9);
  Tensor x = Tensor::randn({40, 6}, rng), y = Tensor::empty({40});
  for (int64_t i = 0; i < 40; ++i) y.data()[i] = static_cast<float>(i % 3);
  return std::make_shared<td::TensorDataset>(x, y);
}

// One training run's objects, built the same way each time (as a new process would).
struct TrainingRun {
  // Seeds default_rng() before anything draws from it (the dropout layer's seed, the weights).
  struct Seeded {
    explicit Seeded(uint64_t seed) { tg::manual_seed(seed); }
  } seeded;
  tg::Sequential model;
  std::unique_ptr<tg::Adam> opt;
  td::DataLoader loader;
  tg::TrainingProgress progress;
  explicit TrainingRun(uint64_t seed)
      : seeded(seed),
        model({tg::Dense(16, {.activation = "relu", .name = "hidden"}), tg::Dropout(0.3f, {.name = "drop"}),
               tg::Dense(3, {.name = "out"})},
              {.name = "net"}),
        loader(dataset(), {.batch_size = 8, .shuffle = true, .seed = 4, .transform = [](float* x, const tg::Shape& s, tg::Rng& r) {
                             for (int64_t i = 0; i < s.numel(); ++i) x[i] += 0.01f * r.normal();
                           }}) {
    model.build({6});
    opt = std::make_unique<tg::Adam>(model.parameters(), tg::AdamOptions{.learning_rate = 0.01f});
  }
  tg::TrainingState state() { return {&model, opt.get(), &loader, &progress, {}}; }
  void train(int steps) {
    for (int s = 0; s < steps; ++s) {
      auto batch = loader.next();
      if (!batch) {
        ++progress.epoch;
        batch = loader.next();
      }
      Variable loss = tg::losses::sparse_categorical_crossentropy(batch->y, model(Variable(batch->x), true), {.from_logits = true});
      opt->zero_grad();
      loss.backward();
      opt->step();
      progress.history["loss"].push_back(loss.item());
      ++progress.step;
    }
  }
  std::vector<std::vector<float>> weights() const {
    std::vector<std::vector<float>> w;
    for (const auto& p : model.parameters()) w.push_back(p->var.value().to_vector());
    return w;
  }
};

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
void write_all(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

}  // namespace

TEST(Checkpoint, ResumeIsBitForBitWithDropoutShufflingAndAugmentation) {
  const fs::path dir = temp_dir("resume");
  TrainingRun straight(1);
  straight.train(14);  // crosses an epoch boundary (5 batches per epoch)
  for (auto format : {tg::ArchiveFormat::kBinary, tg::ArchiveFormat::kText, tg::ArchiveFormat::kXml}) {
    TrainingRun first(1);
    first.train(7);
    const std::string path = (dir / "run.ckpt").string();
    tg::save_checkpoint(path, first.state(), {.format = format});
    TrainingRun second(2);  // a different seed: everything must come from the file
    tg::load_checkpoint(path, second.state());
    EXPECT_EQ(second.progress, first.progress);
    EXPECT_EQ(second.opt->iterations(), 7);
    second.train(7);
    EXPECT_EQ(second.weights(), straight.weights()) << "format " << static_cast<int>(format);
    EXPECT_EQ(second.progress.history, straight.progress.history);
    EXPECT_EQ(second.opt->state().slots[0][0].to_vector(), straight.opt->state().slots[0][0].to_vector());
  }
  const std::string xml = read_all(dir / "run.ckpt");
  EXPECT_NE(xml.find("<weight_names"), std::string::npos) << "the XML archive is readable";
  fs::remove_all(dir);
}

TEST(Checkpoint, WeightsOnlyStrictAndLenient) {
  const fs::path dir = temp_dir("weights");
  TrainingRun a(1);
  a.train(3);
  const std::string path = (dir / "w.bin").string();
  tg::save_weights(path, a.model);
  TrainingRun b(2);
  EXPECT_TRUE(tg::load_weights(path, b.model).empty());
  EXPECT_EQ(b.weights(), a.weights());
  EXPECT_ERROR(tg::load_checkpoint(path, b.state()), {"load_checkpoint", "weights only", "load_weights"});
  // A model with an extra layer: strict refuses and changes nothing, lenient reports the names.
  tg::manual_seed(3);
  tg::Sequential bigger({tg::Dense(16, {.activation = "relu", .name = "hidden"}), tg::Dense(3, {.name = "out"}), tg::Dense(2, {.name = "extra"})},
                        {.name = "bigger"});
  bigger.build({6});
  const auto before = bigger.parameters()[0]->var.value().to_vector();
  EXPECT_ERROR((void)tg::load_weights(path, bigger), {"does not match the model", "missing in the file: extra/kernel, extra/bias"});
  EXPECT_EQ(bigger.parameters()[0]->var.value().to_vector(), before) << "a refused load changes nothing";
  const auto skipped = tg::load_weights(path, bigger, {.strict = false});
  EXPECT_EQ(skipped, (std::vector<std::string>{"extra/kernel", "extra/bias"}));
  EXPECT_EQ(bigger.parameters()[0]->var.value().to_vector(), a.weights()[0]);
  fs::remove_all(dir);
}

TEST(Checkpoint, BadFilesSayWhatIsWrongAndChangeNothing) {
  const fs::path dir = temp_dir("bad");
  TrainingRun a(1);
  a.train(2);
  const fs::path good = dir / "good.ckpt";
  tg::save_checkpoint(good.string(), a.state());
  const std::string bytes = read_all(good);
  TrainingRun b(5);
  const auto before = b.weights();
  const auto before_state = b.loader.state();
  auto expect_untouched = [&] {
    EXPECT_EQ(b.weights(), before);
    EXPECT_EQ(b.opt->iterations(), 0);
    EXPECT_EQ(b.loader.state(), before_state);
  };
  write_all(dir / "short", bytes.substr(0, bytes.size() - 10));
  EXPECT_ERROR(tg::load_checkpoint((dir / "short").string(), b.state()), {"short", "truncated"});
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x10;
  write_all(dir / "flipped", flipped);
  EXPECT_ERROR(tg::load_checkpoint((dir / "flipped").string(), b.state()), {"flipped", "corrupt", "checksum"});
  write_all(dir / "notes.txt", "hello, this is not a checkpoint at all");
  EXPECT_ERROR(tg::load_checkpoint((dir / "notes.txt").string(), b.state()), {"notes.txt", "not a tapegrad checkpoint"});
  std::string newer = bytes;
  newer[10] = 9;  // format version
  write_all(dir / "newer", newer);
  EXPECT_ERROR(tg::load_checkpoint((dir / "newer").string(), b.state()), {"newer", "format version 9", "reads versions 1 to 2"});
  EXPECT_ERROR(tg::load_checkpoint((dir / "missing").string(), b.state()), {"cannot open", "missing"});
  // A different architecture: same names, another width.
  tg::manual_seed(1);
  tg::Sequential wider({tg::Dense(17, {.activation = "relu", .name = "hidden"}), tg::Dropout(0.3f, {.name = "drop"}), tg::Dense(3, {.name = "out"})}, {.name = "w"});
  wider.build({6});
  const auto wider_before = wider.parameters()[0]->var.value().to_vector();
  EXPECT_ERROR((void)tg::load_weights(good.string(), wider), {"does not match the model", "'hidden/kernel' is (6, 16) in the file, (6, 17) in the model"});
  EXPECT_EQ(wider.parameters()[0]->var.value().to_vector(), wider_before);
  // An optimizer of another type: refused before anything is applied.
  tg::Sequential same({tg::Dense(16, {.activation = "relu", .name = "hidden"}), tg::Dropout(0.3f, {.name = "drop"}), tg::Dense(3, {.name = "out"})}, {.name = "s"});
  same.build({6});
  tg::SGD sgd(same.parameters());
  const auto same_before = same.parameters()[0]->var.value().to_vector();
  EXPECT_ANY_THROW(tg::load_checkpoint(good.string(), {&same, &sgd, nullptr, nullptr, {}}));
  EXPECT_EQ(same.parameters()[0]->var.value().to_vector(), same_before);
  expect_untouched();
  fs::remove_all(dir);
}

TEST(Checkpoint, AWriterKilledMidWriteLeavesThePreviousCheckpointIntact) {
  const fs::path dir = temp_dir("kill");
  const std::string path = (dir / "big.ckpt").string();
  tg::manual_seed(1);
  tg::Sequential model({tg::Dense(2048, {.name = "a"}), tg::Dense(2048, {.name = "b"})}, {.name = "big"});  // ~4M weights, 17 MB
  model.build({64});
  tg::save_weights(path, model);
  const auto saved = model.parameters()[2]->var.value().to_vector();
  for (int attempt = 0; attempt < 3; ++attempt) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {  // keep rewriting with other values until killed
      for (int i = 0;; ++i) {
        model.parameters()[2]->var.value().fill_(static_cast<float>(i + 1000));
        tg::save_weights(path, model);
      }
    }
    usleep(30000 + 20000 * attempt);
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    // Whatever the child managed, the file is a complete checkpoint: the original or a rewrite.
    tg::Sequential probe({tg::Dense(2048, {.name = "a"}), tg::Dense(2048, {.name = "b"})}, {.name = "probe"});
    probe.build({64});
    ASSERT_NO_THROW((void)tg::load_weights(path, probe));
    const float v = probe.parameters()[2]->var.value().data()[0];
    EXPECT_TRUE(v == saved[0] || v >= 1000.0f);
  }
  // Temporary files of killed writers are the only leftovers; the checkpoint itself is fine.
  for (const auto& e : fs::directory_iterator(dir))
    EXPECT_TRUE(e.path() == fs::path(path) || e.path().filename().string().find(".tmp-") != std::string::npos);
  fs::remove_all(dir);
}

TEST(Checkpoint, MutationFuzzNeverCrashesAlwaysErrors) {
  // Deterministic random mutations of a valid file (libFuzzer needs clang; this runs everywhere
  // and under the sanitizers): every mutated file must be refused with a tapegrad::Error.
  const fs::path dir = temp_dir("fuzz");
  TrainingRun a(1);
  a.train(1);
  for (auto format : {tg::ArchiveFormat::kBinary, tg::ArchiveFormat::kText}) {
    const fs::path good = dir / "good";
    tg::save_checkpoint(good.string(), a.state(), {.format = format});
    const std::string bytes = read_all(good);
    tg::Rng rng(42);
    int refused = 0;
    for (int trial = 0; trial < 300; ++trial) {
      std::string m = bytes;
      switch (trial % 4) {
        case 0: m[rng.uniform_int(m.size())] ^= static_cast<char>(1 + rng.uniform_int(255)); break;
        case 1: m.resize(rng.uniform_int(m.size())); break;
        case 2: m.insert(rng.uniform_int(m.size()), std::string(1 + rng.uniform_int(8), static_cast<char>(rng.uniform_int(256)))); break;
        case 3:
          for (int k = 0; k < 8; ++k) m[rng.uniform_int(m.size())] = static_cast<char>(rng.uniform_int(256));
          break;
      }
      if (m == bytes) continue;
      write_all(dir / "mutant", m);
      TrainingRun b(3);
      try {
        tg::load_checkpoint((dir / "mutant").string(), b.state());
        ADD_FAILURE() << "trial " << trial << ": a mutated file was accepted";
      } catch (const tg::Error&) {
        ++refused;
      }
    }
    EXPECT_GT(refused, 290);
  }
  fs::remove_all(dir);
}

namespace {
// Rewrites a checkpoint's format version (bytes 10..13) and its checksum, as an older build wrote.
void set_format_version(const std::string& path, uint32_t version) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  std::memcpy(&bytes[10], &version, 4);
  const size_t body = bytes.size() - 4;
  const uint32_t crc = static_cast<uint32_t>(crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(bytes.data()),
                                                   static_cast<uInt>(body)));
  std::memcpy(&bytes[body], &crc, 4);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}
}  // namespace

TEST(Checkpoint, FormatVersionOneLoadsWhereNamesAgreeAndOtherwiseSaysHowToConvert) {
  const fs::path dir = temp_dir("v1");
  // A model saved the old way: flat, per-process names such as "dense_3".
  tg::manual_seed(5);
  tg::Sequential old_model({tg::Dense(4, {.name = "dense_3"}), tg::Dense(2, {.name = "dense_4"})});
  old_model.build({3});
  const std::string old_file = (dir / "old.weights").string();
  tg::save_weights(old_file, old_model);
  set_format_version(old_file, 1);
  tg::Sequential today({tg::Dense(4), tg::Dense(2)});
  today.build({3});
  EXPECT_ERROR((void)tg::load_weights(old_file, today),
               {"missing in the file: dense/kernel", "format version 1", "paths", "To convert it", "{.strict = false}"});
  // Where the names agree (a first model in its process: "dense", "dense_1"), it loads.
  tg::Sequential first({tg::Dense(4), tg::Dense(2)});
  first.build({3});
  const std::string agree = (dir / "agree.weights").string();
  tg::save_weights(agree, first);
  set_format_version(agree, 1);
  EXPECT_TRUE(tg::load_weights(agree, today).empty());
  EXPECT_TRUE(tg::allclose(today.parameters()[0]->var.value(), first.parameters()[0]->var.value(), 0, 0));
  fs::remove_all(dir);
}

TEST(Checkpoint, AFileThatNamesAWeightTwiceIsRefused) {
  // What a model with two layers of one name used to write (issue 12, case 2): the second kernel
  // would have gone into the first layer. Such a model cannot be built now; such a file is refused.
  const fs::path dir = temp_dir("dup");
  tg::Sequential m({tg::Dense(2, {.name = "a"}), tg::Dense(2, {.name = "b"})});
  m.build({2});
  const std::string file = (dir / "w").string();
  tg::save_weights(file, m);
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  // Rename "b/kernel" to "a/kernel" in place (same length) and fix the checksum.
  for (size_t at = bytes.find("b/kernel"); at != std::string::npos; at = bytes.find("b/kernel", at)) bytes[at] = 'a';
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
  set_format_version(file, tg::kCheckpointFormatVersion);
  const Tensor before = m.parameters()[0]->var.value().clone();
  EXPECT_ERROR((void)tg::load_weights(file, m), {"names the weight 'a/kernel' twice"});
  EXPECT_TRUE(tg::allclose(m.parameters()[0]->var.value(), before, 0, 0));
  fs::remove_all(dir);
}

TEST(Checkpoint, StaleTemporaryFilesOfTheTargetGoWithTheNextWrite) {
  // Issue 13, point 3: a writer killed between mkstemp and rename leaves "<name>.tmp-XXXXXX".
  const fs::path dir = temp_dir("stale");
  TrainingRun a(1);
  for (const char* stale : {"run.ckpt.tmp-AbC123", "run.ckpt.tmp-zzzzzz"}) std::ofstream(dir / stale) << "partial";
  std::ofstream(dir / "other.ckpt.tmp-AbC123") << "another target's";
  std::ofstream(dir / "run.ckpt.tmp-notmine-long") << "not a temp name";
  tg::save_checkpoint((dir / "run.ckpt").string(), a.state());
  EXPECT_FALSE(fs::exists(dir / "run.ckpt.tmp-AbC123"));
  EXPECT_FALSE(fs::exists(dir / "run.ckpt.tmp-zzzzzz"));
  EXPECT_TRUE(fs::exists(dir / "other.ckpt.tmp-AbC123"));
  EXPECT_TRUE(fs::exists(dir / "run.ckpt.tmp-notmine-long"));
  EXPECT_TRUE(fs::exists(dir / "run.ckpt"));
  fs::remove_all(dir);
}

TEST(Checkpoint, AResumeWithOtherLoaderOptionsSaysWhichChanged) {
  // Issue 13, point 4.
  const fs::path dir = temp_dir("meaning");
  const std::string path = (dir / "c.ckpt").string();
  TrainingRun a(1);
  a.train(3);
  tg::save_checkpoint(path, a.state());
  TrainingRun b(1);
  EXPECT_NO_THROW(tg::load_checkpoint(path, b.state()));
  auto attempt = [&](td::LoaderOptions options, std::shared_ptr<td::TensorDataset> data, std::vector<std::string> parts) {
    TrainingRun c(1);
    td::DataLoader other(data, options);
    const tg::TrainingState state{&c.model, c.opt.get(), &other, &c.progress, {}};
    const Tensor before = c.model.parameters()[0]->var.value().clone();
    tg::testing::expect_error([&] { tg::load_checkpoint(path, state); }, parts, "load_checkpoint", __LINE__);
    EXPECT_TRUE(tg::allclose(c.model.parameters()[0]->var.value(), before, 0, 0)) << "nothing changed";
  };
  const auto jitter = a.loader.options().transform;
  attempt({.batch_size = 4, .shuffle = true, .seed = 4, .transform = jitter}, dataset(),
          {"batch_size was 8; this one's is 4", "reinterpret"});
  attempt({.batch_size = 8, .shuffle = true, .seed = 5, .transform = jitter}, dataset(), {"shuffle seed was 4"});
  attempt({.batch_size = 8, .shuffle = true, .seed = 4, .transform = jitter},
          std::make_shared<td::TensorDataset>(dataset()->head(32)->x(), dataset()->head(32)->y()), {"dataset size", "40", "32"});
  attempt({.batch_size = 8, .shuffle = true, .seed = 4, .transform = td::random_flip()}, dataset(),
          {"transform was 'custom'; this one's is 'random_flip()'"});
  fs::remove_all(dir);
}

TEST(Checkpoint, NonFiniteWeightsNeverReplaceAGoodCheckpoint) {
  // Issue 13, point 6.
  const fs::path dir = temp_dir("nan");
  const std::string path = (dir / "c.ckpt").string();
  TrainingRun a(1);
  tg::save_checkpoint(path, a.state());
  const auto good = fs::file_size(path);
  a.model.parameters()[2]->var.value().data()[1] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_ERROR(tg::save_checkpoint(path, a.state()), {"save_checkpoint", "'out/kernel' holds NaN or Inf", "allow_non_finite"});
  EXPECT_ERROR(tg::save_weights(path, a.model), {"save_weights", "NaN"});
  TrainingRun b(2);
  EXPECT_NO_THROW(tg::load_checkpoint(path, b.state())) << "the good checkpoint is intact";
  EXPECT_EQ(fs::file_size(path), good);
  EXPECT_EQ(tg::first_non_finite_weight(a.model), "out/kernel");
  EXPECT_EQ(tg::first_non_finite_weight(b.model), "");
  tg::save_weights((dir / "debug.w").string(), a.model, {.allow_non_finite = true});
  fs::remove_all(dir);
}

TEST(Checkpoint, AnOptimizerStateMismatchNamesTheFile) {
  // Issue 13, point 8: Optimizer::load_state's errors now say which file they came from.
  const fs::path dir = temp_dir("opt_file");
  const std::string path = (dir / "c.ckpt").string();
  TrainingRun a(1);
  tg::save_checkpoint(path, a.state());
  TrainingRun b(1);
  tg::SGD sgd(b.model.parameters());
  EXPECT_ERROR(tg::load_checkpoint(path, {&b.model, &sgd, &b.loader, &b.progress, {}}),
               {"load_checkpoint", path, "SGD::load_state", "optimizer 'Adam'"});
  fs::remove_all(dir);
}
