// rank, size, agree, sum and broadcast: the small collectives, built on world.h.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/last_error.h"
#include "distributed/world.h"
#include "tapegrad/core/error.h"
#include "tapegrad/distributed/distributed.h"

namespace tapegrad::distributed {

bool built_with_mpi() { return world::built_with_mpi(); }
int rank() { return world::rank(); }
int size() { return world::size(); }
bool is_root() { return world::rank() == 0; }
void barrier() { world::barrier(); }
data::Shard data_shard() { return {world::rank(), world::size()}; }

void abort(const std::string& message) {
  if (world::size() == 1) throw_error(message);
  std::fprintf(stderr, "tapegrad::distributed: rank %d of %d: %s; ending the job\n", world::rank(), world::size(),
               message.c_str());
  std::fflush(stderr);
  world::abort_job(1);
}

namespace {

// Rank `root`'s string on every rank.
void broadcast_from(std::string& bytes, int root) {
  uint64_t length = bytes.size();
  world::broadcast(&length, sizeof length, root);
  bytes.resize(length);
  if (length > 0) world::broadcast(bytes.data(), length, root);
}

}  // namespace

void agree(const std::string& error) {
  const int n = world::size();
  if (n == 1) {
    if (!error.empty()) throw_error(error);
    return;
  }
  const uint8_t mine = error.empty() ? 0 : 1;
  std::vector<uint8_t> failed(static_cast<size_t>(n));
  world::allgather(&mine, 1, failed.data());
  for (int r = 0; r < n; ++r) {
    if (!failed[static_cast<size_t>(r)]) continue;
    std::string message = error;
    broadcast_from(message, r);
    throw_error(message + " (on rank " + std::to_string(r) + " of " + std::to_string(n) + ")");
  }
}

void sum(std::span<double> values) {
  const size_t n = static_cast<size_t>(world::size());
  if (n == 1 || values.empty()) return;
  std::vector<double> all(n * values.size());
  world::allgather(values.data(), values.size_bytes(), all.data());
  for (size_t i = 0; i < values.size(); ++i) {
    double total = 0.0;
    for (size_t r = 0; r < n; ++r) total += all[r * values.size() + i];  // rank order: the same bits everywhere
    values[i] = total;
  }
}

double sum(double value) {
  sum(std::span<double>(&value, 1));
  return value;
}

void broadcast(std::span<float> values) {
  if (world::size() > 1 && !values.empty()) world::broadcast(values.data(), values.size_bytes(), 0);
}

void broadcast(std::string& bytes) {
  if (world::size() > 1) broadcast_from(bytes, 0);
}

}  // namespace tapegrad::distributed
