#include "tapegrad/data/readers.h"

#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <vector>

#include "core/read_file.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/tensor_ops.h"

namespace tapegrad::data {

namespace {

constexpr int64_t kCifarImageBytes = 3072;

// The bytes of a file read as a std::string, as unsigned values.
const unsigned char* bytes_of(const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// Whole file, gunzipped when it starts with the gzip magic bytes.
std::string read_maybe_gzip(const std::string& path) {
  std::string raw = read_whole_file(path, "read_idx");
  if (raw.size() < 2 || bytes_of(raw)[0] != 0x1f || bytes_of(raw)[1] != 0x8b) return raw;
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) fail("read_idx", "cannot open '" + path + "' as gzip");
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  int err = 0;
  const char* msg = gzerror(f, &err);
  const std::string message = msg ? msg : "";
  gzclose(f);
  if (n < 0 || (err != Z_OK && err != Z_STREAM_END))
    fail("read_idx", "'" + path + "' is a corrupt gzip file after " + std::to_string(out.size()) + " bytes: " + message);
  return out;
}

}  // namespace

TensorDataset read_cifar_file(const std::string& path, int label_bytes, int label_index) {
  const char* op = "read_cifar";
  const std::string bytes = read_whole_file(path, op);
  const int64_t record = label_bytes + kCifarImageBytes;
  if (bytes.empty() || static_cast<int64_t>(bytes.size()) % record != 0)
    fail(op, "'" + path + "' has " + std::to_string(bytes.size()) + " bytes: expected a positive multiple of " +
                 std::to_string(record) + " (" + std::to_string(label_bytes) + " label byte(s) + 3072 pixels); the last record, at offset " +
                 std::to_string(static_cast<int64_t>(bytes.size()) / record * record) + ", is truncated");
  const int64_t n = static_cast<int64_t>(bytes.size()) / record;
  Tensor x = Tensor::empty({n, 32, 32, 3}), y = Tensor::empty({n});
  for (int64_t i = 0; i < n; ++i) {
    const unsigned char* r = bytes_of(bytes) + i * record;
    y.data()[i] = static_cast<float>(r[label_index]);
    const unsigned char* planes = r + label_bytes;
    float* img = x.data() + i * kCifarImageBytes;
    // Planes (R, G, B) of 1024 row-major pixels -> interleaved HWC.
    for (int64_t p = 0; p < 1024; ++p)
      for (int64_t c = 0; c < 3; ++c) img[p * 3 + c] = static_cast<float>(planes[c * 1024 + p]);
  }
  return TensorDataset(x, y);
}

namespace {

std::shared_ptr<TensorDataset> concat_files(const std::vector<std::string>& paths, int label_bytes, int label_index,
                                            int64_t classes) {
  std::vector<Tensor> xs, ys;
  for (const auto& p : paths) {
    TensorDataset part = read_cifar_file(p, label_bytes, label_index);
    for (int64_t i = 0; i < part.size(); ++i)
      if (part.y().data()[i] >= static_cast<float>(classes))
        fail("read_cifar", "'" + p + "' record " + std::to_string(i) + " (offset " +
                               std::to_string(i * (label_bytes + kCifarImageBytes)) + ") has label " +
                               std::to_string(static_cast<int>(part.y().data()[i])) + ", expected below " + std::to_string(classes));
    xs.push_back(part.x());
    ys.push_back(part.y());
  }
  const Tensor x = xs.size() == 1 ? xs[0] : concat(xs, 0), y = ys.size() == 1 ? ys[0] : concat(ys, 0);
  return std::make_shared<TensorDataset>(x, y);
}

void require_dir(const std::string& dir, const char* op, const std::string& hint) {
  if (!std::filesystem::is_directory(dir)) fail(op, "no folder '" + dir + "'; " + hint);
}

}  // namespace

Split cifar10(const std::string& dir) {
  require_dir(dir, "cifar10", "download the CIFAR-10 binary version (cifar-10-binary.tar.gz) and pass its cifar-10-batches-bin folder");
  std::vector<std::string> train;
  for (int i = 1; i <= 5; ++i) train.push_back(dir + "/data_batch_" + std::to_string(i) + ".bin");
  return {concat_files(train, 1, 0, 10), concat_files({dir + "/test_batch.bin"}, 1, 0, 10)};
}

Split cifar100(const std::string& dir, const std::string& label_mode) {
  if (label_mode != "fine" && label_mode != "coarse")
    fail("cifar100", "unknown label_mode '" + label_mode + "'; known: coarse, fine");
  require_dir(dir, "cifar100", "download the CIFAR-100 binary version and pass its cifar-100-binary folder");
  const int index = label_mode == "fine" ? 1 : 0;
  const int64_t classes = label_mode == "fine" ? 100 : 20;
  return {concat_files({dir + "/train.bin"}, 2, index, classes), concat_files({dir + "/test.bin"}, 2, index, classes)};
}

Tensor read_idx(const std::string& path) {
  const std::string raw = read_maybe_gzip(path);
  const unsigned char* b = bytes_of(raw);
  const size_t size = raw.size();
  auto need = [&](size_t end, const std::string& what) {
    if (size < end)
      fail("read_idx", "'" + path + "' ends at byte " + std::to_string(size) + ", expected " + what + " up to offset " +
                           std::to_string(end));
  };
  need(4, "the magic number");
  if (b[0] != 0 || b[1] != 0) fail("read_idx", "'" + path + "' does not start with an IDX magic number (offset 0)");
  if (b[2] != 0x08) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned>(b[2]));
    fail("read_idx", "'" + path + "' has element type " + hex + " at offset 2; only unsigned bytes (0x08) are supported");
  }
  const int dims = b[3];
  if (dims < 1 || dims > kMaxDims) fail("read_idx", "'" + path + "' declares " + std::to_string(dims) + " dims at offset 3");
  need(4 + 4 * static_cast<size_t>(dims), "the dims");
  std::vector<int64_t> shape;
  const size_t header = 4 + 4 * static_cast<size_t>(dims);
  // The element count comes from the file: it is computed with overflow checks and compared with
  // the bytes the file really holds, so a header of huge dims can neither wrap around nor promise
  // data that is not there.
  uint64_t count = 1;
  bool overflow = false;
  for (int d = 0; d < dims; ++d) {
    const unsigned char* p = b + 4 + 4 * d;
    const int64_t n = (int64_t{p[0]} << 24) | (int64_t{p[1]} << 16) | (int64_t{p[2]} << 8) | int64_t{p[3]};
    shape.push_back(n);
    overflow = overflow || __builtin_mul_overflow(count, static_cast<uint64_t>(n), &count);
  }
  if (overflow || count > size - header) {
    fail("read_idx", "'" + path + "' ends at byte " + std::to_string(size) + ", but its dims " + extents_str(shape) +
                         " at offset 4 call for " +
                         (overflow ? std::string("more elements than a 64-bit count holds")
                                   : std::to_string(count) + " data bytes up to offset " + std::to_string(header + count)));
  }
  if (size != header + count)
    fail("read_idx", "'" + path + "' has " + std::to_string(size - header - count) +
                         " unexpected bytes after offset " + std::to_string(header + count));
  Tensor t = Tensor::empty(Shape(shape));
  for (size_t i = 0; i < count; ++i) t.data()[i] = static_cast<float>(b[header + i]);
  return t;
}

namespace {
std::string find_idx(const std::string& dir, const std::string& stem) {
  for (const char* suffix : {"", ".gz"}) {
    const std::string p = dir + "/" + stem + suffix;
    if (std::filesystem::exists(p)) return p;
  }
  fail("mnist_format", "no '" + stem + "' or '" + stem + ".gz' in '" + dir + "'");
}

// MNIST and Fashion-MNIST have ten classes.
constexpr int64_t kMnistClasses = 10;

std::shared_ptr<TensorDataset> load_pair(const std::string& dir, const std::string& images, const std::string& labels) {
  const std::string ip = find_idx(dir, images), lp = find_idx(dir, labels);
  Tensor x = read_idx(ip), y = read_idx(lp);
  if (x.rank() != 3 || y.rank() != 1 || x.dim(0) != y.dim(0))
    fail("mnist_format", "'" + ip + "' " + x.shape().str() + " and '" + lp + "' " + y.shape().str() +
                             " must be (n, rows, cols) images and (n,) labels");
  for (int64_t i = 0; i < y.numel(); ++i)
    if (y.data()[i] >= static_cast<float>(kMnistClasses))
      fail("mnist_format", "'" + lp + "' record " + std::to_string(i) + " (offset " + std::to_string(8 + i) +
                               ") has label " + std::to_string(static_cast<int>(y.data()[i])) + ", expected below " +
                               std::to_string(kMnistClasses));
  return std::make_shared<TensorDataset>(x.reshape({x.dim(0), x.dim(1), x.dim(2), 1}), y);
}
}  // namespace

Split mnist_format(const std::string& dir) {
  require_dir(dir, "mnist_format", "for Fashion-MNIST install Debian's dataset-fashion-mnist (scripts/setup.sh does)");
  return {load_pair(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          load_pair(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")};
}

}  // namespace tapegrad::data
