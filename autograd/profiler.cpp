#include "tapegrad/autograd/profiler.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <vector>

namespace tapegrad::profiler {

namespace {

struct Entry {
  int64_t calls = 0;
  double seconds = 0.0;
};

std::atomic<bool> g_enabled{false};
std::mutex g_mutex;
std::map<std::pair<std::string, std::string>, Entry> g_entries;
thread_local double t_last_mark = 0.0;

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

}  // namespace

void enable(bool on) {
  g_enabled = on;
  mark();
}
bool enabled() { return g_enabled.load(std::memory_order_relaxed); }

void reset() {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_entries.clear();
  mark();
}

void mark() { t_last_mark = now(); }

void record_forward(const char* op) {
  const double t = now();
  add(op, "forward", t - t_last_mark);
  t_last_mark = t;
}

void add(const std::string& name, const char* phase, double seconds) {
  std::lock_guard<std::mutex> lock(g_mutex);
  Entry& e = g_entries[{name, phase}];
  ++e.calls;
  e.seconds += seconds;
}

std::string table(int top) {
  std::vector<std::pair<std::pair<std::string, std::string>, Entry>> rows;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    rows.assign(g_entries.begin(), g_entries.end());
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.seconds > b.second.seconds; });
  double total = 0.0;
  for (const auto& r : rows) total += r.second.seconds;
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-34s %-9s %9s %12s %7s\n", "op", "phase", "calls", "total ms", "%");
  out += line;
  int n = 0;
  for (const auto& [key, e] : rows) {
    if (top > 0 && n++ >= top) break;
    std::snprintf(line, sizeof line, "%-34s %-9s %9lld %12.2f %6.1f%%\n", key.first.c_str(), key.second.c_str(),
                  static_cast<long long>(e.calls), e.seconds * 1e3, total > 0 ? 100.0 * e.seconds / total : 0.0);
    out += line;
  }
  std::snprintf(line, sizeof line, "%-34s %-9s %9s %12.2f\n", "total", "", "", total * 1e3);
  return out + line;
}

ProfileScope::ProfileScope(const char* name) : name_(name), start_(enabled() ? now() : 0.0) {}
ProfileScope::~ProfileScope() {
  if (start_ != 0.0) {
    add(name_, "other", now() - start_);
    mark();
  }
}

}  // namespace tapegrad::profiler
