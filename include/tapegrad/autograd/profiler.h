#pragma once
// A per-op profile, as PyTorch's profiler table: time spent in each op's forward and backward
// over a run, sorted. Off by default (one branch per op when off).
//
// Forward time is attributed as the time since the previous op (or the last mark()) finished:
// an op's forward runs right before it records itself on the tape, so this is the op's forward
// plus whatever the calling code did in between — call mark() where the model's work starts
// (e.g. after the data loader hands over a batch). Backward time is measured around each
// backward closure. Anything else (the optimizer step, data loading) can be timed with
// ProfileScope.
#include <string>

namespace tapegrad::profiler {

void enable(bool on = true);
bool enabled();
void reset();
// Restarts the forward clock: the time before this is not given to the next op.
void mark();
// Called by the tape for every op; `seconds` is added to the op's total for `phase`.
void record_forward(const char* op);
void add(const std::string& name, const char* phase, double seconds);
// "op  phase  calls  total ms  %" rows, largest first, `top` of them (0 = all).
std::string table(int top = 0);

// Times a scope under `name` (phase "other") when profiling is on.
class ProfileScope {
 public:
  explicit ProfileScope(const char* name);
  ~ProfileScope();
  ProfileScope(const ProfileScope&) = delete;
  ProfileScope& operator=(const ProfileScope&) = delete;

 private:
  const char* name_;
  double start_;
};

}  // namespace tapegrad::profiler
