#include "train/weights_file.h"

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <vector>

#include "core/error.h"

namespace tapegrad {

namespace {

constexpr char kMagic[4] = {'T', 'G', 'W', '1'};

template <class T>
void put(std::ofstream& out, const T& v) {
  out.write(reinterpret_cast<const char*>(&v), sizeof v);
}

template <class T>
T take(std::ifstream& in, const std::string& path) {
  T v{};
  if (!in.read(reinterpret_cast<char*>(&v), sizeof v)) fail("load_weights", "'" + path + "' is truncated");
  return v;
}

}  // namespace

void save_weights(const std::string& path, const Layer& model) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail("save_weights", "cannot open '" + tmp + "' for writing");
    out.write(kMagic, sizeof kMagic);
    const auto params = model.parameters();
    put(out, static_cast<uint32_t>(params.size()));
    for (const auto& p : params) {
      put(out, static_cast<uint32_t>(p->name.size()));
      out.write(p->name.data(), static_cast<std::streamsize>(p->name.size()));
      const Tensor& v = p->var.value();
      put(out, static_cast<uint32_t>(v.rank()));
      for (int d = 0; d < v.rank(); ++d) put(out, static_cast<int64_t>(v.dim(d)));
      out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.numel() * sizeof(float)));
    }
    out.flush();
    if (!out) fail("save_weights", "writing '" + tmp + "' failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) fail("save_weights", "cannot rename '" + tmp + "' to '" + path + "'");
}

void load_weights(const std::string& path, Layer& model) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("load_weights", "cannot open '" + path + "'");
  char magic[4] = {};
  if (!in.read(magic, sizeof magic) || !std::equal(magic, magic + 4, kMagic))
    fail("load_weights", "'" + path + "' is not a tapegrad weights file (bad magic)");
  const auto params = model.parameters();
  const auto count = take<uint32_t>(in, path);
  if (count != params.size())
    fail("load_weights", "'" + path + "' holds " + std::to_string(count) + " weights, the model has " +
                             std::to_string(params.size()));
  std::vector<Tensor> values;
  for (const auto& p : params) {
    const auto name_length = take<uint32_t>(in, path);
    if (name_length > 4096) fail("load_weights", "'" + path + "' is corrupt (name length " + std::to_string(name_length) + ")");
    std::string name(name_length, '\0');
    if (!in.read(name.data(), name_length)) fail("load_weights", "'" + path + "' is truncated");
    const auto rank = take<uint32_t>(in, path);
    if (rank > static_cast<uint32_t>(kMaxDims)) fail("load_weights", "'" + path + "' is corrupt (rank " + std::to_string(rank) + ")");
    std::vector<int64_t> dims(rank);
    for (auto& d : dims) d = take<int64_t>(in, path);
    const Shape shape(dims);
    if (name != p->name || shape != p->var.shape())
      fail("load_weights", "'" + path + "' has '" + name + "' " + shape.str() + " where the model has '" + p->name + "' " +
                               p->var.shape().str());
    Tensor t = Tensor::empty(shape);
    if (!in.read(reinterpret_cast<char*>(t.data()), static_cast<std::streamsize>(t.numel() * sizeof(float))))
      fail("load_weights", "'" + path + "' is truncated");
    values.push_back(std::move(t));
  }
  for (size_t i = 0; i < params.size(); ++i) params[i]->var.value().copy_from(values[i]);
}

}  // namespace tapegrad
