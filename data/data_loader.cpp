#include "tapegrad/data/data_loader.h"

#include <tbb/task_group.h>

#include <deque>
#include <numeric>
#include <vector>

#include "core/splitmix.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/parallel.h"

namespace tapegrad::data {

namespace {
// Decorrelates (seed, epoch, position) into independent generator keys.
uint64_t mix(uint64_t x) { return splitmix64(x); }
}  // namespace

struct DataLoader::Impl {
  struct Slot {
    int64_t epoch, batch;
    std::shared_ptr<Batch> result;
    std::unique_ptr<tbb::task_group> task;
  };
  State position;                        // what next() returns next
  int64_t scheduled_epoch = 0, scheduled_batch = 0;  // the first batch not yet in `queue`
  std::deque<Slot> queue;
  int64_t order_epoch = -1;
  std::shared_ptr<const std::vector<int64_t>> order;

  ~Impl() { drain(); }
  // Waits for prefetched batches that will never be used; their errors no longer matter.
  void drain() noexcept {
    for (auto& s : queue) {
      try {
        s.task->wait();
      } catch (...) {
      }
    }
    queue.clear();
  }
};

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(std::move(options)), impl_(std::make_unique<Impl>()) {
  if (!dataset_) fail("DataLoader", "the dataset is null");
  if (options_.batch_size < 1) fail("DataLoader", "batch_size must be positive, got " + std::to_string(options_.batch_size));
  if (options_.prefetch < 0) fail("DataLoader", "prefetch must be >= 0, got " + std::to_string(options_.prefetch));
  if (dataset_->size() < 1) fail("DataLoader", "the dataset is empty");
  const Shard& shard = options_.shard;
  if (shard.count < 1 || shard.index < 0 || shard.index >= shard.count)
    fail("DataLoader", "shard " + std::to_string(shard.index) + " of " + std::to_string(shard.count) +
                           " does not exist: count must be >= 1 and index in [0, count)");
  if (shard.count > 1) {
    const int64_t last = dataset_->size() % options_.batch_size;
    if (options_.batch_size < shard.count || (!options_.drop_last && last != 0 && last < shard.count))
      fail("DataLoader", "batches of " + std::to_string(options_.batch_size) + " of " + std::to_string(dataset_->size()) +
                             " samples " + (options_.batch_size < shard.count ? std::string("are") : "end with a batch of " + std::to_string(last) + ", which is") +
                             " smaller than the " + std::to_string(shard.count) +
                             " shards: some process would get no rows (use a larger batch_size, or drop_last)");
  }
  if (options_.drop_last && dataset_->size() < options_.batch_size)
    fail("DataLoader", "drop_last with batch_size " + std::to_string(options_.batch_size) + " leaves no batch of the " +
                           std::to_string(dataset_->size()) + " samples");
}

DataLoader::~DataLoader() = default;

int64_t DataLoader::batches_per_epoch() const {
  const int64_t n = dataset_->size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

DataLoader::State DataLoader::state() const { return impl_->position; }

void DataLoader::set_state(const State& s) {
  if (s.epoch < 0 || s.batch < 0 || s.batch > batches_per_epoch())
    fail("DataLoader::set_state", "position (epoch " + std::to_string(s.epoch) + ", batch " + std::to_string(s.batch) +
                                      ") is outside the " + std::to_string(batches_per_epoch()) + " batches of an epoch");
  impl_->drain();
  impl_->position = s;
  impl_->scheduled_epoch = s.epoch;
  impl_->scheduled_batch = s.batch;
}

std::optional<Batch> DataLoader::next() {
  Impl& m = *impl_;
  const int64_t per_epoch = batches_per_epoch();
  if (m.position.batch >= per_epoch) {  // the epoch ended: report it once, then move on
    m.position = {m.position.epoch + 1, 0};
    return std::nullopt;
  }
  const std::shared_ptr<const Dataset> dataset = dataset_;
  const LoaderOptions& opt = options_;
  // Builds batch `b` of `epoch` into `out`; a pure function of (seed, epoch, b).
  auto schedule = [&](int64_t epoch, int64_t b) {
    if (m.order_epoch != epoch) {
      auto order = std::make_shared<std::vector<int64_t>>(static_cast<size_t>(dataset->size()));
      std::iota(order->begin(), order->end(), 0);
      if (opt.shuffle) {
        Rng rng(mix(opt.seed ^ mix(static_cast<uint64_t>(epoch))));
        for (size_t i = order->size() - 1; i > 0; --i) std::swap((*order)[i], (*order)[rng.uniform_int(i + 1)]);
      }
      m.order = order;
      m.order_epoch = epoch;
    }
    auto result = std::make_shared<Batch>();
    auto task = std::make_unique<tbb::task_group>();
    task->run([dataset, order = m.order, result, epoch, b, bs = opt.batch_size, seed = opt.seed, transform = opt.transform,
               shard = opt.shard] {
      const int64_t n = static_cast<int64_t>(order->size());
      const int64_t batch_lo = b * bs, rows = std::min(n, batch_lo + bs) - batch_lo;
      // This shard's rows of the batch (all of them for one shard).
      const auto [first, last] = shard.rows(rows);
      const int64_t lo = batch_lo + first, hi = batch_lo + last;
      Shape xs{hi - lo}, ys{hi - lo};
      for (int64_t d : dataset->sample_shape()) xs.push_back(d);
      for (int64_t d : dataset->target_shape()) ys.push_back(d);
      result->x = Tensor::empty(xs);
      result->y = Tensor::empty(ys);
      const int64_t x_size = dataset->sample_shape().numel(), y_size = dataset->target_shape().numel();
      const Shape sample_shape = dataset->sample_shape();
      parallel_for(lo, hi, 8, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
          float* x = result->x.data() + (i - lo) * x_size;
          dataset->get((*order)[static_cast<size_t>(i)], x, result->y.data() + (i - lo) * y_size);
          if (transform) {
            Rng rng(mix(seed ^ mix(static_cast<uint64_t>(epoch) * 0x100000001B3ull + static_cast<uint64_t>(i) + 1)));
            transform(x, sample_shape, rng);
          }
        }
      });
    });
    m.queue.push_back({epoch, b, result, std::move(task)});
  };
  // Keep the queue filled: the batch we need now, plus `prefetch` ahead (across epochs).
  if (m.queue.empty()) {
    m.scheduled_epoch = m.position.epoch;
    m.scheduled_batch = m.position.batch;
  }
  while (static_cast<int64_t>(m.queue.size()) < 1 + opt.prefetch) {
    if (m.scheduled_batch >= per_epoch) {
      ++m.scheduled_epoch;
      m.scheduled_batch = 0;
    }
    schedule(m.scheduled_epoch, m.scheduled_batch++);
  }
  Impl::Slot slot = std::move(m.queue.front());
  m.queue.pop_front();
  if (slot.epoch != m.position.epoch || slot.batch != m.position.batch)
    fail("DataLoader", "internal error: prefetched batch (" + std::to_string(slot.epoch) + ", " + std::to_string(slot.batch) +
                           ") does not match the position");
  slot.task->wait();  // rethrows an exception of the task (a bad sample, a failing transform)
  ++m.position.batch;
  return std::move(*slot.result);
}

}  // namespace tapegrad::data
