// CIFAR and IDX readers on files written by the test in the published layouts, and on
// malformed ones; Fashion-MNIST from Debian's package when it is installed.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "../temp_dir.h"
#include "../error_matchers.h"
#include "tapegrad/data/readers.h"

namespace tg = tapegrad;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& name) { return tg::testing::temp_dir("test_" + name); }

// Record i: label (i * 3 + offset) % 10, pixel (channel c, position p) = (i + 7 c + p) % 256.
std::vector<unsigned char> cifar_records(int n, int label_bytes, int offset) {
  std::vector<unsigned char> out;
  for (int i = 0; i < n; ++i) {
    for (int l = 0; l < label_bytes; ++l) out.push_back(static_cast<unsigned char>((i * 3 + offset + l * 5) % 10));
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < 1024; ++p) out.push_back(static_cast<unsigned char>((i + 7 * c + p) % 256));
  }
  return out;
}

void write(const fs::path& p, const std::vector<unsigned char>& bytes) {
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<unsigned char> idx_bytes(const std::vector<int>& dims, int fill_mod) {
  std::vector<unsigned char> out = {0, 0, 0x08, static_cast<unsigned char>(dims.size())};
  int64_t count = 1;
  for (int d : dims) {
    for (int shift : {24, 16, 8, 0}) out.push_back(static_cast<unsigned char>((d >> shift) & 0xff));
    count *= d;
  }
  for (int64_t i = 0; i < count; ++i) out.push_back(static_cast<unsigned char>(i % fill_mod));
  return out;
}

void write_gz(const fs::path& p, const std::vector<unsigned char>& bytes) {
  gzFile f = gzopen(p.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

}  // namespace

TEST(CifarReader, Cifar10InThePublishedLayout) {
  const fs::path dir = temp_dir("cifar10");
  for (int b = 1; b <= 5; ++b) write(dir / ("data_batch_" + std::to_string(b) + ".bin"), cifar_records(3, 1, b));
  write(dir / "test_batch.bin", cifar_records(2, 1, 0));
  const auto split = tg::data::cifar10(dir.string());
  ASSERT_EQ(split.train->size(), 15);
  EXPECT_EQ(split.train->sample_shape(), tg::Shape({32, 32, 3}));
  EXPECT_EQ(split.test->size(), 2);
  // Sample 4 = record 1 of data_batch_2: label (1*3 + 2) % 10 = 5; pixel at row 1, col 2 is
  // position 34: channel c holds (1 + 7c + 34) % 256.
  EXPECT_EQ(split.train->y().data()[4], 5.0f);
  EXPECT_EQ(split.train->x().at({4, 1, 2, 0}), 35.0f);
  EXPECT_EQ(split.train->x().at({4, 1, 2, 1}), 42.0f);
  EXPECT_EQ(split.train->x().at({4, 1, 2, 2}), 49.0f);
  fs::remove_all(dir);
}

TEST(CifarReader, Cifar100FineAndCoarse) {
  const fs::path dir = temp_dir("cifar100");
  write(dir / "train.bin", cifar_records(4, 2, 0));
  write(dir / "test.bin", cifar_records(1, 2, 0));
  const auto coarse = tg::data::cifar100(dir.string(), "coarse"), fine = tg::data::cifar100(dir.string(), "fine");
  EXPECT_EQ(coarse.train->y().data()[2], 6.0f);  // (2*3) % 10
  EXPECT_EQ(fine.train->y().data()[2], 1.0f);    // (2*3 + 5) % 10
  EXPECT_ERROR(tg::data::cifar100(dir.string(), "medium"), {"cifar100", "label_mode 'medium'"});
  fs::remove_all(dir);
}

TEST(CifarReader, MissingTruncatedAndMalformedFiles) {
  const fs::path dir = temp_dir("cifar_bad");
  EXPECT_ERROR(tg::data::cifar10((dir / "nope").string()), {"cifar10", "nope", "cifar-10-batches-bin"});
  EXPECT_ERROR(tg::data::cifar10(dir.string()), {"read_cifar", "data_batch_1.bin", "cannot open"});
  auto bytes = cifar_records(2, 1, 0);
  bytes.resize(bytes.size() - 100);
  write(dir / "short.bin", bytes);
  EXPECT_ERROR(tg::data::read_cifar_file((dir / "short.bin").string(), 1, 0), {"short.bin", "6046 bytes", "3073", "offset 3073"});
  auto bad_label = cifar_records(2, 1, 0);
  bad_label[3073] = 12;  // record 1's label
  for (int b = 1; b <= 5; ++b) write(dir / ("data_batch_" + std::to_string(b) + ".bin"), bad_label);
  write(dir / "test_batch.bin", cifar_records(1, 1, 0));
  EXPECT_ERROR(tg::data::cifar10(dir.string()), {"data_batch_1.bin", "record 1", "offset 3073", "label 12"});
  fs::remove_all(dir);
}

TEST(IdxReader, PlainAndGzip) {
  const fs::path dir = temp_dir("idx");
  write(dir / "a.idx", idx_bytes({3, 4, 5}, 251));
  write_gz(dir / "b.idx.gz", idx_bytes({3, 4, 5}, 251));
  const tg::Tensor a = tg::data::read_idx((dir / "a.idx").string()), b = tg::data::read_idx((dir / "b.idx.gz").string());
  EXPECT_EQ(a.shape(), tg::Shape({3, 4, 5}));
  EXPECT_EQ(a.at({2, 3, 4}), 59.0f);
  EXPECT_EQ(a.to_vector(), b.to_vector());
  // An MNIST-layout folder.
  write_gz(dir / "train-images-idx3-ubyte.gz", idx_bytes({6, 28, 28}, 256));
  write(dir / "train-labels-idx1-ubyte", idx_bytes({6}, 10));
  write_gz(dir / "t10k-images-idx3-ubyte.gz", idx_bytes({2, 28, 28}, 256));
  write_gz(dir / "t10k-labels-idx1-ubyte.gz", idx_bytes({2}, 10));
  const auto split = tg::data::mnist_format(dir.string());
  EXPECT_EQ(split.train->x().shape(), tg::Shape({6, 28, 28, 1}));
  EXPECT_EQ(split.test->y().to_vector(), (std::vector<float>{0, 1}));
  fs::remove_all(dir);
}

TEST(IdxReader, MalformedFiles) {
  const fs::path dir = temp_dir("idx_bad");
  auto truncated = idx_bytes({2, 3}, 7);
  truncated.pop_back();
  write(dir / "t.idx", truncated);
  EXPECT_ERROR(tg::data::read_idx((dir / "t.idx").string()), {"read_idx", "t.idx", "ends at byte 17", "offset 18"});
  auto bad_magic = idx_bytes({2}, 7);
  bad_magic[0] = 1;
  write(dir / "m.idx", bad_magic);
  EXPECT_ERROR(tg::data::read_idx((dir / "m.idx").string()), {"m.idx", "magic"});
  auto floats = idx_bytes({2}, 7);
  floats[2] = 0x0D;
  write(dir / "f.idx", floats);
  EXPECT_ERROR(tg::data::read_idx((dir / "f.idx").string()), {"f.idx", "element type"});
  auto extra = idx_bytes({2}, 7);
  extra.push_back(1);
  write(dir / "e.idx", extra);
  EXPECT_ERROR(tg::data::read_idx((dir / "e.idx").string()), {"e.idx", "1 unexpected bytes"});
  std::vector<unsigned char> gz_garbage = {0x1f, 0x8b, 0x08, 0x00, 1, 2, 3, 4, 5, 6, 7, 8};
  write(dir / "g.idx.gz", gz_garbage);
  EXPECT_ERROR(tg::data::read_idx((dir / "g.idx.gz").string()), {"g.idx.gz"});
  EXPECT_ERROR(tg::data::mnist_format(dir.string()), {"mnist_format", "train-images-idx3-ubyte"});
  fs::remove_all(dir);
}

TEST(IdxReader, FashionMnistFromDebianPackage) {
  if (!fs::exists(tg::data::kFashionMnistDir)) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const auto split = tg::data::mnist_format(tg::data::kFashionMnistDir);
  EXPECT_EQ(split.train->x().shape(), tg::Shape({60000, 28, 28, 1}));
  EXPECT_EQ(split.test->x().shape(), tg::Shape({10000, 28, 28, 1}));
  std::vector<int> counts(10);
  for (float label : split.test->y().to_vector()) ++counts.at(static_cast<size_t>(label));
  for (int c : counts) EXPECT_EQ(c, 1000) << "Fashion-MNIST's test set has 1000 images per class";
}
