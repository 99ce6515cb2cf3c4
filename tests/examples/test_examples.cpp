// The example programs and networks: a few steps of ResNet-20 and the Keras CIFAR CNN on CIFAR
// files written here, exact resume across processes, the Fashion-MNIST CNN on a short budget, and
// a clear failure when CIFAR-10 is missing.
#include <gtest/gtest.h>

#include "../temp_dir.h"
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>

#include "support/models.h"
#include "tapegrad/tapegrad.h"

namespace tg = tapegrad;
namespace td = tapegrad::data;
namespace fs = std::filesystem;

namespace {

const std::string kBin = TAPEGRAD_EXAMPLES_DIR;

fs::path temp_dir(const std::string& name) { return tg::testing::temp_dir("examples_" + name); }

// CIFAR-10 binary files in the published layout, with a learnable signal: class k images are
// brighter in channel k % 3 and in the k-th band of rows, plus noise.
void write_cifar(const fs::path& dir, int per_file) {
  tg::Rng rng(17);
  auto file = [&](const fs::path& path, int n) {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < n; ++i) {
      const int label = static_cast<int>(rng.uniform_int(10));
      out.put(static_cast<char>(label));
      for (int c = 0; c < 3; ++c)
        for (int p = 0; p < 1024; ++p) {
          const int row = p / 32;
          int v = static_cast<int>(rng.uniform_int(60));
          if (c == label % 3) v += 100;
          if (row / 4 == label % 8) v += 80;
          out.put(static_cast<char>(v));
        }
    }
  };
  for (int b = 1; b <= 5; ++b) file(dir / ("data_batch_" + std::to_string(b) + ".bin"), per_file);
  file(dir / "test_batch.bin", per_file);
}

// Runs a command, returning its exit code and stdout+stderr.
std::pair<int, std::string> run(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return {-1, ""};
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) output.append(buf, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Mean loss of the first and of the last `window` of `steps` training steps on one loader.
std::pair<double, double> train_steps(tg::Layer& model, tg::Optimizer& opt, td::DataLoader& loader, int steps, int window) {
  std::vector<double> losses;
  while (static_cast<int>(losses.size()) < steps) {
    auto batch = loader.next();
    if (!batch) continue;
    auto loss = tg::losses::sparse_categorical_crossentropy(batch->y, model(tg::Variable(batch->x), true), {.from_logits = true});
    opt.zero_grad();
    loss.backward();
    opt.step();
    losses.push_back(loss.item());
  }
  double first = 0, last = 0;
  for (int i = 0; i < window; ++i) {
    first += losses[i] / window;
    last += losses[losses.size() - 1 - i] / window;
  }
  return {first, last};
}

}  // namespace

TEST(Examples, CifarNetworksLearnOnCifarFilesWrittenHere) {
  const fs::path dir = temp_dir("cifar_steps");
  write_cifar(dir, 40);
  const auto data = td::cifar10(dir.string());
  ASSERT_EQ(data.train->size(), 200);
  td::DataLoader loader(data.train, {.batch_size = 20, .shuffle = true, .seed = 1, .transform = td::scale(1.0f / 255.0f)});
  {
    tg::manual_seed(1);
    auto cnn = examples::keras_cifar10_cnn();
    cnn->build({32, 32, 3});
    EXPECT_EQ(cnn->count_params(), 1250858);
    tg::Adam opt(cnn->parameters(), {.learning_rate = 1e-3f});
    const auto [first, last] = train_steps(*cnn, opt, loader, 30, 5);
    EXPECT_LT(last, 0.7 * first) << "cifar10_cnn: the loss goes down";
  }
  {
    tg::manual_seed(1);
    examples::ResNet20 resnet;
    resnet.build({32, 32, 3});
    // ResNet-20 with projection shortcuts: 0.27M weights + BatchNorm statistics.
    EXPECT_GT(resnet.count_params(), 270000);
    EXPECT_LT(resnet.count_params(), 280000);
    tg::SGD opt(resnet.parameters(), {.learning_rate = 0.05f, .momentum = 0.9f});
    const auto [first, last] = train_steps(resnet, opt, loader, 30, 5);
    EXPECT_LT(last, 0.7 * first) << "ResNet-20: the loss goes down";
  }
  fs::remove_all(dir);
}

TEST(Examples, ResumeInANewProcessIsBitForBit) {
  const fs::path dir = temp_dir("resume");
  write_cifar(dir, 16);
  const std::string data = " --data " + dir.string() + " --batch-size 16 --threads 2";
  struct Program {
    std::string command;
    int steps;
  };
  const Program programs[] = {
      {kBin + "/spirals_mlp --epochs 3 --batch-size 64", 30},                               // crosses epochs (16 batches each)
      {kBin + "/cifar10_cnn --epochs 2" + data + " --test-limit 16 --optimizer adam", 8},  // 5 batches per epoch
  };
  for (const auto& p : programs) {
    const std::string straight = (dir / "straight.ckpt").string(), split = (dir / "split.ckpt").string();
    auto [rc1, out1] = run(p.command + " --steps " + std::to_string(p.steps) + " --checkpoint " + straight);
    ASSERT_EQ(rc1, 0) << out1;
    auto [rc2, out2] = run(p.command + " --steps " + std::to_string(p.steps / 2) + " --checkpoint " + split);
    ASSERT_EQ(rc2, 0) << out2;
    auto [rc3, out3] = run(p.command + " --resume --steps " + std::to_string(p.steps) + " --checkpoint " + split);
    ASSERT_EQ(rc3, 0) << out3;
    // Same weights, optimizer moments, generators, loader position and loss history: same bytes.
    const std::string a = read_all(straight), b = read_all(split);
    EXPECT_GT(a.size(), 1000u);
    EXPECT_TRUE(a == b) << p.command << ": the resumed run's checkpoint differs from the uninterrupted one";
  }
  fs::remove_all(dir);
}

TEST(Examples, CifarProgramsSayWhereTheDataGoes) {
  for (const char* program : {"cifar10_cnn", "resnet"}) {
    auto [rc, out] = run(kBin + "/" + program + " --data /nonexistent/cifar --epochs 1");
    EXPECT_NE(rc, 0);
    EXPECT_NE(out.find("cifar-10-batches-bin"), std::string::npos) << out;
  }
  auto [rc, out] = run(kBin + "/fashion_mnist --help");
  EXPECT_EQ(rc, 0);
  EXPECT_NE(out.find("--checkpoint PATH"), std::string::npos);
}

TEST(Examples, FashionMnistCnnIsFarAboveChanceOnAShortBudget) {
  if (!fs::exists(td::kFashionMnistDir)) GTEST_SKIP() << "dataset-fashion-mnist is not installed (scripts/setup.sh installs it)";
  const fs::path dir = temp_dir("fmnist");
  auto [rc, out] = run(kBin + "/fashion_mnist --epochs 1 --train-limit 12000 --test-limit 2000 --batch-size 64 --no-augment --lr 0.001 --threads 2 --checkpoint " +
                       (dir / "f.ckpt").string());
  ASSERT_EQ(rc, 0) << out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("test_accuracy: ([0-9.]+)"))) << out;
  EXPECT_GT(std::stod(m[1]), 0.80) << out;
  EXPECT_TRUE(fs::exists(dir / "f.ckpt"));
  fs::remove_all(dir);
}

// Fashion-MNIST read row by row (28 steps of 28 features) through an LSTM, a GRU and a
// Bidirectional GRU: far above
// chance (0.1) on a short budget; an unknown --model is a clear error.
TEST(Examples, SequenceModelsLearnFashionMnistRowByRow) {
  if (!fs::exists(td::kFashionMnistDir)) GTEST_SKIP() << "dataset-fashion-mnist is not installed (scripts/setup.sh installs it)";
  const fs::path dir = temp_dir("sequence");
  for (const char* model : {"lstm", "gru", "bigru"}) {
    auto [rc, out] = run(kBin + "/sequence --model " + model + " --epochs 1 --train-limit 6000 --test-limit 1000 --threads 2 --checkpoint " +
                         (dir / (std::string(model) + ".ckpt")).string());
    ASSERT_EQ(rc, 0) << out;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(out, m, std::regex("test_accuracy: ([0-9.]+)"))) << out;
    EXPECT_GT(std::stod(m[1]), 0.4) << model << "\n" << out;
    EXPECT_TRUE(fs::exists(dir / (std::string(model) + ".ckpt"))) << model;
  }
  auto [rc, out] = run(kBin + "/sequence --model rnn");
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("--model must be lstm, gru or bigru"), std::string::npos) << out;
  fs::remove_all(dir);
}

TEST(Examples, ADirectoryGivenAsAFileIsAClearErrorNotAnAbort) {
  // Issue 13, point 1: std::ifstream opens a directory and a read threw std::ios_base::failure.
  const fs::path dir = temp_dir("dirs");
  write_cifar(dir / "cifar", 4);
  fs::remove(dir / "cifar" / "data_batch_1.bin");
  fs::create_directories(dir / "cifar" / "data_batch_1.bin");
  auto [rc, out] = run(kBin + "/cifar10_cnn --epochs 1 --data " + (dir / "cifar").string());
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("is a directory"), std::string::npos) << out;
  EXPECT_NE(out.find("data_batch_1.bin"), std::string::npos) << out;
  auto [rc2, out2] = run(kBin + "/spirals_mlp --epochs 1 --resume --checkpoint " + dir.string());
  EXPECT_EQ(rc2, 1) << out2;
  EXPECT_NE(out2.find("load_checkpoint: cannot read '" + dir.string() + "': it is a directory"), std::string::npos) << out2;
  fs::remove_all(dir);
}

TEST(Examples, ResumingWithOtherLoaderOptionsSaysWhichChanged) {
  // Issue 13, points 4 and 7: the position means batch b of batch size B over n samples in the
  // order of seed s with augmentation t; another value of any is refused. spirals_mlp counts its
  // steps, so its checkpoint says where it stopped and --steps is a total.
  const fs::path dir = temp_dir("resume_options");
  const std::string ckpt = (dir / "s.ckpt").string();
  auto [rc, out] = run(kBin + "/spirals_mlp --epochs 5 --steps 20 --checkpoint " + ckpt);
  ASSERT_EQ(rc, 0) << out;
  for (const auto& [flag, what] : std::vector<std::pair<std::string, std::string>>{
           {"--batch-size 16", "batch_size was 32; this one's is 16"}, {"--seed 3", "shuffle seed was 1; this one's is 3"}}) {
    auto [rc2, out2] = run(kBin + "/spirals_mlp --epochs 5 --resume " + flag + " --checkpoint " + ckpt);
    EXPECT_EQ(rc2, 1) << out2;
    EXPECT_NE(out2.find(what), std::string::npos) << out2;
  }
  auto [rc3, out3] = run(kBin + "/spirals_mlp --epochs 5 --steps 30 --resume --checkpoint " + ckpt);
  ASSERT_EQ(rc3, 0) << out3;
  EXPECT_NE(out3.find("stopped after 30 steps"), std::string::npos) << "20 saved + 10 more:\n" << out3;
  fs::remove_all(dir);
}

// The functional-API programs: each model's summary and graph without data; the siamese pair
// (two inputs, one shared tower) learns on a short budget.
TEST(Examples, FunctionalModelsPrintTheirGraphs) {
  const fs::path dir = temp_dir("functional");
  for (const char* model : {"toy_resnet", "resnet20", "inception", "siamese"}) {
    const fs::path dot = dir / (std::string(model) + ".dot"), json = dir / (std::string(model) + ".json");
    auto [rc, out] = run(kBin + "/functional --model " + model + " --dot " + dot.string() + " --json " + json.string());
    ASSERT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("Connected to"), std::string::npos) << out;
    std::ifstream in(dot);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text.rfind("digraph \"" + std::string(model) + "\"", 0), 0u) << text;
    // The architecture reads back as the same model.
    std::ifstream json_in(json);
    const std::string architecture((std::istreambuf_iterator<char>(json_in)), std::istreambuf_iterator<char>());
    std::shared_ptr<tg::Layer> back = tg::model_from_json(architecture);
    EXPECT_EQ(tg::to_json(*back), architecture) << model;
    EXPECT_NE(back->summary_string().find("Connected to"), std::string::npos) << model;
  }
  auto [rc, out] = run(kBin + "/functional --model lenet");
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("--model must be toy_resnet, resnet20, inception or siamese"), std::string::npos) << out;
  fs::remove_all(dir);
}

TEST(Examples, FunctionalSiamesePairLearns) {
  if (!fs::exists(td::kFashionMnistDir)) GTEST_SKIP() << "dataset-fashion-mnist is not installed (scripts/setup.sh installs it)";
  auto [rc, out] = run(kBin + "/functional --model siamese --steps 150 --threads 2");
  ASSERT_EQ(rc, 0) << out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("test pair accuracy: ([0-9.]+)"))) << out;
  EXPECT_GT(std::stod(m[1]), 0.75) << out;  // chance is 0.5
}
