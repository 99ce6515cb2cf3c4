#include "tapegrad/train/progress_bar.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace tapegrad {

namespace {

std::string printf_string(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// Keras: "31ms/step", "2s/step", "250us/step".
std::string per_step(double seconds) {
  if (seconds >= 1.0) return printf_string("%.0fs/step", seconds);
  if (seconds >= 1e-3) return printf_string("%.0fms/step", seconds * 1e3);
  return printf_string("%.0fus/step", seconds * 1e6);
}

}  // namespace

ProgressBar::ProgressBar(ProgressBarOptions options) : options_(std::move(options)) {
  out_ = options_.out ? options_.out : &std::cout;
  terminal_ = options_.terminal ? *options_.terminal : (out_ == &std::cout && isatty(STDOUT_FILENO));
  width_ = options_.terminal_width;
  if (width_ <= 0) {
    const char* columns = std::getenv("COLUMNS");
    width_ = columns ? std::atoi(columns) : 0;
    if (width_ <= 0) width_ = 80;
  }
}

double ProgressBar::now() const {
  if (options_.clock) return options_.clock();
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string ProgressBar::bar(int64_t current, int64_t target, int width) {
  const int filled = target > 0 ? static_cast<int>(static_cast<double>(width) * static_cast<double>(current) /
                                                   static_cast<double>(target))
                                : width;
  std::string s = "[";
  if (filled > 0) s += std::string(static_cast<size_t>(filled - 1), '=') + (current < target ? ">" : "=");
  s += std::string(static_cast<size_t>(std::max(0, width - filled)), '.');
  return s + "]";
}

std::string ProgressBar::format_value(double v) {
  return std::fabs(v) > 1e-3 || v == 0.0 ? printf_string("%.4f", v) : printf_string("%.4e", v);
}

std::string ProgressBar::format_eta(double seconds) {
  const long s = static_cast<long>(std::lround(seconds));
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s % 3600) / 60, s % 60);
  else if (s >= 60)
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%lds", s);
  return buf;
}

std::string ProgressBar::line(int64_t current, const Logs& logs, bool final) const {
  const int64_t target = context().steps_per_epoch;
  const std::string steps = std::to_string(target);
  std::string counter = std::to_string(current);
  counter = std::string(steps.size() > counter.size() ? steps.size() - counter.size() : 0, ' ') + counter;
  std::string s = counter + "/" + steps + " " + bar(current, target, options_.bar_width);
  const double elapsed = now() - epoch_start_;
  const double per = current > 0 ? elapsed / static_cast<double>(current) : 0.0;
  if (final)
    s += " - " + printf_string("%.0fs", elapsed) + " " + per_step(per);
  else
    s += " - ETA: " + format_eta(per * static_cast<double>(target - current));
  for (const auto& [k, v] : logs.items()) s += " - " + k + ": " + format_value(v);
  return s;
}

void ProgressBar::on_epoch_begin(int epoch, Logs&) {
  *out_ << "Epoch " << epoch + 1 << "/" << context().epochs << "\n";
  out_->flush();
  epoch_start_ = now();
  last_length_ = 0;
}

void ProgressBar::on_batch_end(int64_t batch, Logs& logs) {
  if (!terminal_ || options_.per_epoch_only) return;
  std::string s = line(batch + 1, logs, false);
  // A line longer than the terminal wraps, and '\r' would then redraw only its last row.
  if (s.size() > static_cast<size_t>(width_ - 1)) s.resize(static_cast<size_t>(std::max(width_ - 1, 0)));
  const size_t length = s.size();
  if (length < last_length_) s += std::string(last_length_ - length, ' ');  // erase the previous tail
  last_length_ = length;
  *out_ << "\r" << s;
  out_->flush();
}

void ProgressBar::on_epoch_end(int epoch, Logs& logs) {
  std::string s = line(context().steps_per_epoch, logs, true);
  if (terminal_ && !options_.per_epoch_only) {
    const size_t length = s.size();
    if (length < last_length_) s += std::string(last_length_ - length, ' ');
    *out_ << "\r";
  }
  *out_ << s << "\n";
  out_->flush();
}

}  // namespace tapegrad
