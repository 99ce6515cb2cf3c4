#pragma once
// DataLoader: batches of a Dataset in a seeded order, built ahead of use on TBB tasks (a bounded
// queue of `prefetch` batches, so memory stays flat). Its position — epoch and next batch — is a
// small value that a checkpoint saves; the shuffle order and every augmentation are derived from
// (seed, epoch, position), so a restored loader continues with exactly the same batches.
//
//   DataLoader train(data.train, {.batch_size = 128, .shuffle = true, .seed = 1,
//                                 .transform = data::random_crop_flip(4)});
//   for (auto& [x, y] : train) { ... }   // one epoch, from the current position
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "tapegrad/core/tensor.h"
#include "tapegrad/data/dataset.h"
#include "tapegrad/data/transforms.h"

namespace tapegrad::data {

// One process's part of every batch, for data-parallel training (distributed::data_shard()),
// as PyTorch's DistributedSampler: the `count` processes build the same shuffled order and the
// same batches of batch_size samples — batch_size is the batch of the whole job — and process
// `index` keeps its rows of each (a batch of m rows split as evenly as it goes: rows
// [m * index / count, m * (index + 1) / count)). Positions count whole batches, and a sample's
// augmentation depends on its place in the order, not on the process: a checkpoint saved at one
// number of processes continues the same samples at any other.
struct Shard {
  int index = 0;
  int count = 1;
  // This shard's rows [first, last) of a batch of m rows.
  std::pair<int64_t, int64_t> rows(int64_t m) const { return {m * index / count, m * (index + 1) / count}; }
};

struct LoaderOptions {
  int64_t batch_size = 32;
  bool shuffle = false;
  uint64_t seed = 0;
  bool drop_last = false;   // drop a last batch smaller than batch_size
  Transform transform = {};  // per sample, on the loader's threads
  int prefetch = 2;          // batches prepared ahead; 0 = build each batch on demand
  Shard shard = {};          // this process's rows of each batch (see Shard)
};

struct Batch {
  Tensor x;  // (batch, *sample_shape)
  Tensor y;  // (batch, *target_shape)
};

class DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options = {});
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  struct State {
    int64_t epoch = 0;
    int64_t batch = 0;  // the next batch of that epoch
    bool operator==(const State&) const = default;
    template <class Archive>
    void serialize(Archive& ar, unsigned /*version*/) {
      ar & epoch & batch;
    }
  };
  State state() const;
  // Moves to a saved position (drops any prefetched batches).
  void set_state(const State& state);

  int64_t batches_per_epoch() const;
  const Dataset& dataset() const { return *dataset_; }
  const LoaderOptions& options() const { return options_; }
  // The next batch of the current epoch, or nothing at its end (the next call starts the next
  // epoch).
  std::optional<Batch> next();

  class Iterator {
   public:
    Iterator(DataLoader* loader, std::optional<Batch> current) : loader_(loader), current_(std::move(current)) {}
    Batch& operator*() { return *current_; }
    Iterator& operator++() {
      current_ = loader_->next();
      return *this;
    }
    bool operator!=(const Iterator& other) const { return current_.has_value() != other.current_.has_value(); }

   private:
    DataLoader* loader_;
    std::optional<Batch> current_;
  };
  // The rest of the current epoch.
  Iterator begin() { return Iterator(this, next()); }
  Iterator end() { return Iterator(this, std::nullopt); }

 private:
  struct Impl;
  std::shared_ptr<const Dataset> dataset_;
  LoaderOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tapegrad::data
