#pragma once
// A fresh, empty scratch folder per test and process: <tmp>/tapegrad_<name>_<pid>.
#include <unistd.h>

#include <filesystem>
#include <string>

namespace tapegrad::testing {

inline std::filesystem::path temp_dir(const std::string& name) {
  namespace fs = std::filesystem;
  fs::path p = fs::temp_directory_path() / ("tapegrad_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

}  // namespace tapegrad::testing
