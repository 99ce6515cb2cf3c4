// Hostile files never crash and never load silently wrong (issue 13, points 1, 2, 5 and 8): a
// directory where a file belongs, IDX headers whose dims overflow, labels out of range, and
// messages that name the file, the record and the value.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "../temp_dir.h"
#include "../error_matchers.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/data/readers.h"
#include "tapegrad/layers/dense.h"
#include "tapegrad/layers/sequential.h"
#include "tapegrad/train/checkpoint.h"

namespace tg = tapegrad;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& name) { return tg::testing::temp_dir("bad_input_" + name); }

void write(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }

// An IDX header of unsigned bytes with the given dims, then `data` bytes.
std::string idx(const std::vector<uint32_t>& dims, size_t data, unsigned char value = 1) {
  std::string b = {0, 0, 0x08, static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<char>((d >> s) & 0xFF));
  b.append(data, static_cast<char>(value));
  return b;
}

}  // namespace

TEST(BadInput, ADirectoryWhereAFileBelongsIsAClearError) {
  const fs::path dir = temp_dir("dir");
  EXPECT_ERROR((void)tg::data::read_idx(dir.string()), {"read_idx", dir.string(), "is a directory, expected a file"});
  EXPECT_ERROR((void)tg::data::read_cifar_file(dir.string(), 1, 0), {"read_cifar", "is a directory"});
  tg::Sequential model({tg::Dense(2)});
  model.build({2});
  EXPECT_ERROR(tg::load_checkpoint(dir.string(), {&model, nullptr, nullptr, nullptr, {}}),
               {"load_checkpoint", "is a directory"});
  EXPECT_ERROR((void)tg::load_weights((dir / "missing").string(), model), {"load_weights", "no such file"});
  fs::remove_all(dir);
}

TEST(BadInput, IdxDimsThatOverflowOrPromiseMissingDataAreRefused) {
  const fs::path dir = temp_dir("idx");
  // The file: images (16, 2^30, 2^30) in a 16-byte file; the count used to wrap to 0.
  write(dir / "huge.idx", idx({16, 1u << 30, 1u << 30}, 0));
  EXPECT_ERROR((void)tg::data::read_idx((dir / "huge.idx").string()),
               {"read_idx", "huge.idx", "ends at byte 16", "(16, 1073741824, 1073741824)"});
  // Dims whose product overflows 64 bits.
  write(dir / "wrap.idx", idx({0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, 8));
  EXPECT_ERROR((void)tg::data::read_idx((dir / "wrap.idx").string()), {"wrap.idx", "64-bit"});
  // The element type is printed in hexadecimal after "0x".
  std::string floats = idx({2}, 2);
  floats[2] = 0x0D;
  write(dir / "f.idx", floats);
  EXPECT_ERROR((void)tg::data::read_idx((dir / "f.idx").string()), {"element type 0x0D"});
  fs::remove_all(dir);
}

TEST(BadInput, ShapeRefusesAnElementCountThatOverflows) {
  EXPECT_ERROR(tg::Shape({int64_t{1} << 32, int64_t{1} << 32}), {"Shape", "64-bit"});
  tg::Shape s{int64_t{1} << 40};
  EXPECT_ERROR(s.push_back(int64_t{1} << 40), {"Shape", "overflows"});
}

TEST(BadInput, IdxLabelsAtOrAboveTheClassCountNameTheFileAndRecord) {
  const fs::path dir = temp_dir("labels");
  write(dir / "train-images-idx3-ubyte", idx({3, 2, 2}, 12));
  std::string labels = idx({3}, 0);
  labels += std::string{1, 9, 10};  // record 2 is out of range
  write(dir / "train-labels-idx1-ubyte", labels);
  write(dir / "t10k-images-idx3-ubyte", idx({1, 2, 2}, 4));
  write(dir / "t10k-labels-idx1-ubyte", idx({1}, 1, 3));
  EXPECT_ERROR((void)tg::data::mnist_format(dir.string()),
               {"mnist_format", "train-labels-idx1-ubyte", "record 2", "offset 10", "label 10", "below 10"});
  fs::remove_all(dir);
}
