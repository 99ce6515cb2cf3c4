#include "core/read_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "tapegrad/core/error.h"

namespace tapegrad {

std::string read_whole_file(const std::string& path, const std::string& op) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status)) fail(op, "cannot open '" + path + "': no such file");
  if (fs::is_directory(status)) fail(op, "cannot read '" + path + "': it is a directory, expected a file");
  if (!fs::is_regular_file(status)) fail(op, "cannot read '" + path + "': not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(op, "cannot open '" + path + "': " + std::strerror(errno));
  std::string bytes;
  try {
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } catch (const std::exception& e) {
    fail(op, "cannot read '" + path + "': " + e.what());
  }
  if (in.bad()) fail(op, "cannot read '" + path + "': read error after " + std::to_string(bytes.size()) + " bytes");
  return bytes;
}

}  // namespace tapegrad
