// DataLoader shards (data-parallel training): the shards of a batch are its rows split in rank
// order, every sample's augmentation is the same whatever the number of shards, a position saved
// at one number of shards means the same batches at another, and shards that would be empty are
// refused. These run in one process; tests/distributed/mpi_*.cpp run the same under mpirun.
#include <gtest/gtest.h>

#include "../error_matchers.h"
#include "tapegrad/data/data_loader.h"

namespace tg = tapegrad;
namespace td = tapegrad::data;
using tg::Tensor;

namespace {

// Sample i is a 4x4x1 image of i + pixel / 16; its label is i.
std::shared_ptr<td::TensorDataset> numbered(int64_t n) {
  Tensor x = Tensor::empty({n, 4, 4, 1}), y = Tensor::empty({n});
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = 0; k < 16; ++k) x.data()[i * 16 + k] = static_cast<float>(i) + static_cast<float>(k) / 16.0f;
    y.data()[i] = static_cast<float>(i);
  }
  return std::make_shared<td::TensorDataset>(x, y);
}

td::LoaderOptions options(int index, int count) {
  return {.batch_size = 7, .shuffle = true, .seed = 9, .transform = td::random_flip(), .shard = {index, count}};
}

// Every batch of one epoch of the loader: (labels, pixels).
std::vector<std::pair<std::vector<float>, std::vector<float>>> epoch(td::DataLoader& loader) {
  std::vector<std::pair<std::vector<float>, std::vector<float>>> out;
  for (auto& [x, y] : loader) out.push_back({y.to_vector(), x.to_vector()});
  return out;
}

}  // namespace

TEST(DataShards, TheShardsOfEachBatchAreItsRowsInRankOrderWithTheSameAugmentation) {
  // Batches of 7: 30 samples end with a batch of 2 (for 2 shards), 31 with one of 3 (for 3).
  for (const auto& [n, count] : {std::pair<int64_t, int>{30, 2}, {31, 3}}) {
    const auto data = numbered(n);
    td::DataLoader whole(data, options(0, 1));
    for (int e = 0; e < 2; ++e) {  // two epochs: the order changes, the split stays
      const auto all = epoch(whole);
      std::vector<std::vector<std::pair<std::vector<float>, std::vector<float>>>> shards;
      for (int r = 0; r < count; ++r) {
        td::DataLoader part(data, options(r, count));
        part.set_state({e, 0});
        shards.push_back(epoch(part));
      }
      for (size_t b = 0; b < all.size(); ++b) {
        std::vector<float> labels, pixels;
        size_t smallest = SIZE_MAX, largest = 0;
        for (int r = 0; r < count; ++r) {
          ASSERT_EQ(shards[static_cast<size_t>(r)].size(), all.size()) << "every shard has every batch";
          const auto& [l, p] = shards[static_cast<size_t>(r)][b];
          labels.insert(labels.end(), l.begin(), l.end());
          pixels.insert(pixels.end(), p.begin(), p.end());
          smallest = std::min(smallest, l.size());
          largest = std::max(largest, l.size());
        }
        EXPECT_EQ(labels, all[b].first) << "epoch " << e << " batch " << b << " of " << count << " shards";
        EXPECT_EQ(pixels, all[b].second) << "the same flips: augmentation depends on the sample's place, not the shard";
        EXPECT_LE(largest - smallest, 1u) << "a batch splits as evenly as it goes";
      }
    }
  }
}

TEST(DataShards, UnevenBatchesSplitByFloorOfTheRowFractions) {
  td::DataLoader a(numbered(14), {.batch_size = 7, .shard = {0, 3}});
  td::DataLoader b(numbered(14), {.batch_size = 7, .shard = {1, 3}});
  td::DataLoader c(numbered(14), {.batch_size = 7, .shard = {2, 3}});
  EXPECT_EQ(a.next()->y.to_vector(), (std::vector<float>{0, 1}));     // rows [0, 7/3)
  EXPECT_EQ(b.next()->y.to_vector(), (std::vector<float>{2, 3}));     // [7/3, 14/3)
  EXPECT_EQ(c.next()->y.to_vector(), (std::vector<float>{4, 5, 6}));  // [14/3, 7)
  EXPECT_EQ(a.batches_per_epoch(), 2) << "batches count whole batches, as without shards";
}

TEST(DataShards, APositionSavedAtOneShardCountContinuesTheSameSamplesAtAnother) {
  const auto data = numbered(28);
  td::DataLoader two(data, options(1, 2));
  two.next();
  two.next();
  const td::DataLoader::State saved = two.state();
  td::DataLoader whole(data, options(0, 1));
  whole.set_state(saved);
  const auto rest = epoch(whole);
  std::vector<float> resumed;
  for (int r = 0; r < 4; ++r) {
    td::DataLoader part(data, options(r, 4));
    part.set_state(saved);
    const auto batch = part.next();
    resumed.insert(resumed.end(), batch->y.data(), batch->y.data() + batch->y.numel());
  }
  EXPECT_EQ(resumed, rest[0].first) << "batch 2 of epoch 0, whether read by 1 or by 4 processes";
}

TEST(DataShards, ShardsThatWouldBeEmptyOrDoNotExistAreRefused) {
  const auto data = numbered(30);
  EXPECT_TG_ERROR(td::DataLoader(data, {.batch_size = 7, .shard = {0, 3}}), "DataLoader", "batch of 2", "3 shards",
                  "drop_last");
  td::DataLoader dropped(data, {.batch_size = 7, .drop_last = true, .shard = {2, 3}});
  EXPECT_EQ(dropped.batches_per_epoch(), 4) << "with drop_last the short batch is gone";
  EXPECT_TG_ERROR(td::DataLoader(data, {.batch_size = 2, .shard = {0, 3}}), "DataLoader", "batches of 2", "3 shards");
  EXPECT_TG_ERROR(td::DataLoader(data, {.batch_size = 7, .shard = {2, 2}}), "DataLoader", "shard 2 of 2");
  EXPECT_TG_ERROR(td::DataLoader(data, {.batch_size = 7, .shard = {0, 0}}), "DataLoader", "shard 0 of 0");
  EXPECT_TG_ERROR(td::DataLoader(data, {.batch_size = 7, .shard = {-1, 2}}), "DataLoader", "shard -1 of 2");
}
