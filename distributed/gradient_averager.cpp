// GradientAverager: the gradients of the trainable parameters, weighted by each rank's share of
// the batch, summed over the ranks in buckets.
//
// Each bucket is summed as a reduce-scatter plus an all-gather, written out so the order is ours:
// rank r receives every rank's copy of chunk r of the bucket (MPI_Alltoallv), adds them in rank
// order, and all-gathers the summed chunks. Every element is added up by one rank in one fixed
// order and then copied, so all ranks hold the same bits, whatever algorithm MPI would have
// picked for an Allreduce of that size. Each rank sends and receives about 2 (N - 1) / N of a
// bucket, as a ring all-reduce does.
#include <algorithm>
#include <cstring>

#include "distributed/world.h"
#include "tapegrad/core/error.h"
#include "tapegrad/distributed/distributed.h"

namespace tapegrad::distributed {

namespace {

struct Chunks {
  std::vector<int> counts, offsets;
};

// n elements over `ranks` chunks, as even as can be (sizes differ by at most one).
Chunks chunks_of(int64_t n, int ranks) {
  Chunks c;
  for (int r = 0; r < ranks; ++r) {
    const int64_t lo = n * r / ranks, hi = n * (r + 1) / ranks;
    c.offsets.push_back(static_cast<int>(lo));
    c.counts.push_back(static_cast<int>(hi - lo));
  }
  return c;
}

}  // namespace

GradientAverager::GradientAverager(const Layer& model, AveragingOptions options)
    : parameters_(model.trainable_parameters()), options_(options) {
  for (const auto& p : model.parameters())
    if (!p->trainable) {
      buffers_.push_back(p);
      buffer_versions_.push_back(p->var.value().version());
    }
  if (options_.bucket_bytes < static_cast<int64_t>(sizeof(float)) || options_.bucket_bytes > (int64_t{1} << 30))
    fail("GradientAverager", "bucket_bytes must be between 4 and 2^30, got " + std::to_string(options_.bucket_bytes));
  check_same_parameters(model);
}

GradientAverager::~GradientAverager() = default;

void GradientAverager::average(int64_t local_samples) {
  const char* op = "GradientAverager::average";
  if (local_samples < 0) fail(op, "local_samples must be >= 0, got " + std::to_string(local_samples));
  traffic_ = {};
  const int ranks = world::size();
  if (ranks == 1) return;
  const int me = world::rank();

  // Which parameters have a gradient on which rank, every rank's share of the batch, and which
  // buffers changed, in one collective: [samples, has_grad of each parameter, changed of each
  // buffer] per rank.
  const size_t row = 1 + parameters_.size() + buffers_.size();
  std::vector<int64_t> mine(row), all(row * static_cast<size_t>(ranks));
  mine[0] = local_samples;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    const Tensor& g = parameters_[i]->var.grad();
    if (g.defined() && g.shape() != parameters_[i]->var.shape())
      fail(op, "the gradient of '" + parameters_[i]->name + "' is " + g.shape().str() + ", its value " +
                   parameters_[i]->var.shape().str());
    mine[i + 1] = g.defined() ? 1 : 0;
  }
  for (size_t b = 0; b < buffers_.size(); ++b)
    mine[1 + parameters_.size() + b] = buffers_[b]->var.value().version() != buffer_versions_[b] ? 1 : 0;
  world::allgather(mine.data(), row * sizeof(int64_t), all.data());
  int64_t total = 0;
  std::vector<bool> anywhere(parameters_.size(), false), changed(buffers_.size(), false);
  for (int r = 0; r < ranks; ++r) {
    const int64_t* at = all.data() + static_cast<size_t>(r) * row;
    total += at[0];
    for (size_t i = 0; i < parameters_.size(); ++i) anywhere[i] = anywhere[i] || at[1 + i];
    for (size_t b = 0; b < buffers_.size(); ++b) changed[b] = changed[b] || at[1 + parameters_.size() + b];
  }
  if (total == 0) fail(op, "no rank has samples in this batch: there is no gradient to average");
  const float weight = static_cast<float>(static_cast<double>(local_samples) / static_cast<double>(total));

  // The gradients, as one stream of elements in parameter order, a bucket at a time.
  std::vector<Tensor> grads;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    if (!anywhere[i]) continue;
    Variable& v = parameters_[i]->var;
    if (!v.grad().defined()) v.impl()->grad = Tensor::zeros(v.shape());  // zero where this rank had none
    grads.push_back(v.grad());
  }
  int64_t elements = 0;
  for (const Tensor& g : grads) elements += g.numel();
  // A model smaller than a bucket needs no more room than itself.
  const int64_t capacity = std::max<int64_t>(1, std::min(options_.bucket_bytes / static_cast<int64_t>(sizeof(float)), elements));
  bucket_.resize(static_cast<size_t>(capacity));
  received_.resize(static_cast<size_t>(capacity + ranks));
  size_t tensor = 0;
  int64_t within = 0;  // the next element of grads[tensor]
  while (tensor < grads.size()) {
    // Pack: this rank's weighted gradients.
    const size_t first_tensor = tensor;
    const int64_t first_within = within;
    int64_t n = 0;
    while (tensor < grads.size() && n < capacity) {
      const int64_t take = std::min(capacity - n, grads[tensor].numel() - within);
      const float* g = grads[tensor].data() + within;
      for (int64_t k = 0; k < take; ++k) bucket_[static_cast<size_t>(n + k)] = weight * g[k];
      n += take;
      within += take;
      if (within == grads[tensor].numel()) ++tensor, within = 0;
    }
    // Reduce-scatter in rank order, then all-gather.
    const Chunks c = chunks_of(n, ranks);
    const int my_count = c.counts[static_cast<size_t>(me)];
    const std::vector<int> recv_counts(static_cast<size_t>(ranks), my_count);
    std::vector<int> recv_offsets(static_cast<size_t>(ranks));
    for (int r = 0; r < ranks; ++r) recv_offsets[static_cast<size_t>(r)] = r * my_count;
    world::alltoall(bucket_.data(), c.counts.data(), c.offsets.data(), received_.data(), recv_counts.data(), recv_offsets.data());
    float* out = bucket_.data() + c.offsets[static_cast<size_t>(me)];
    std::memcpy(out, received_.data(), static_cast<size_t>(my_count) * sizeof(float));
    for (int r = 1; r < ranks; ++r) {
      const float* in = received_.data() + static_cast<size_t>(r) * static_cast<size_t>(my_count);
      for (int k = 0; k < my_count; ++k) out[k] += in[k];
    }
    world::allgather_in_place(bucket_.data(), c.counts.data(), c.offsets.data());
    // Unpack into the gradients.
    int64_t at = 0;
    for (size_t t = first_tensor; at < n; ++t) {
      const int64_t from = t == first_tensor ? first_within : 0;
      const int64_t put = std::min(n - at, grads[t].numel() - from);
      std::memcpy(grads[t].data() + from, bucket_.data() + at, static_cast<size_t>(put) * sizeof(float));
      at += put;
    }
    const int64_t bytes = static_cast<int64_t>(sizeof(float)) * ((n - my_count) + static_cast<int64_t>(my_count) * (ranks - 1));
    ++traffic_.buckets;
    traffic_.bytes_sent += bytes;
    traffic_.bytes_received += bytes;
  }
  // The buffers that changed: rank 0's values everywhere.
  for (size_t b = 0; b < buffers_.size(); ++b) {
    Tensor& value = buffers_[b]->var.value();
    if (changed[b]) {
      broadcast(std::span<float>(value.data(), static_cast<size_t>(value.numel())));
      value.mark_modified();
      const int64_t bytes = value.numel() * static_cast<int64_t>(sizeof(float));
      if (me == 0) traffic_.bytes_sent += bytes * (ranks - 1);
      else traffic_.bytes_received += bytes;
    }
    buffer_versions_[b] = value.version();
  }
}

}  // namespace tapegrad::distributed
