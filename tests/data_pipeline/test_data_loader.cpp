// DataLoader: coverage, seeded order, drop_last, exact resume from a saved position, and results
// independent of prefetching and threads; transforms.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "../error_matchers.h"
#include "tapegrad/core/parallel.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/data/data_loader.h"

namespace tg = tapegrad;
namespace td = tapegrad::data;
using tg::Shape;
using tg::Tensor;

namespace {

// Sample i is a 4x4x2 image filled with i; its label is i.
std::shared_ptr<td::TensorDataset> numbered(int64_t n) {
  Tensor x = Tensor::empty({n, 4, 4, 2}), y = Tensor::empty({n});
  for (int64_t i = 0; i < n; ++i) {
    std::fill(x.data() + i * 32, x.data() + (i + 1) * 32, static_cast<float>(i));
    y.data()[i] = static_cast<float>(i);
  }
  return std::make_shared<td::TensorDataset>(x, y);
}

std::vector<std::vector<float>> epoch_labels(td::DataLoader& loader) {
  std::vector<std::vector<float>> out;
  for (auto& [x, y] : loader) out.push_back(y.to_vector());
  return out;
}

std::vector<float> flatten(const std::vector<std::vector<float>>& batches) {
  std::vector<float> all;
  for (const auto& b : batches) all.insert(all.end(), b.begin(), b.end());
  return all;
}

}  // namespace

TEST(DataLoader, CoversEveryDatasetSampleOncePerEpochInOrder) {
  td::DataLoader loader(numbered(10), {.batch_size = 4});
  EXPECT_EQ(loader.batches_per_epoch(), 3);
  const auto batches = epoch_labels(loader);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[2], (std::vector<float>{8, 9}));
  EXPECT_EQ(flatten(batches), (std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(loader.state(), (td::DataLoader::State{1, 0})) << "the finished epoch advanced the position";
  td::DataLoader dropping(numbered(10), {.batch_size = 4, .drop_last = true});
  EXPECT_EQ(epoch_labels(dropping).size(), 2u);
}

TEST(DataLoader, ShuffleIsSeededAndChangesEveryEpoch) {
  td::DataLoader a(numbered(50), {.batch_size = 8, .shuffle = true, .seed = 3});
  td::DataLoader b(numbered(50), {.batch_size = 8, .shuffle = true, .seed = 3});
  td::DataLoader c(numbered(50), {.batch_size = 8, .shuffle = true, .seed = 4});
  const auto a0 = flatten(epoch_labels(a)), a1 = flatten(epoch_labels(a));
  EXPECT_EQ(a0, flatten(epoch_labels(b)));
  EXPECT_NE(a0, a1) << "a new order each epoch";
  EXPECT_NE(a0, flatten(epoch_labels(c)));
  auto sorted = a0;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(sorted[i], static_cast<float>(i));
}

TEST(DataLoader, ImagesTravelWithTheirLabels) {
  td::DataLoader loader(numbered(20), {.batch_size = 6, .shuffle = true, .seed = 1});
  for (auto& [x, y] : loader) {
    ASSERT_EQ(x.shape(), Shape({y.dim(0), 4, 4, 2}));
    for (int64_t i = 0; i < y.dim(0); ++i) EXPECT_EQ(x.at({i, 3, 3, 1}), y.data()[i]);
  }
}

TEST(DataLoader, ResumesExactlyFromASavedPositionWithAugmentation) {
  const td::LoaderOptions opts{.batch_size = 5, .shuffle = true, .seed = 11, .transform = td::random_crop_flip(1)};
  td::DataLoader full(numbered(23), opts);
  std::vector<Tensor> reference;
  for (int e = 0; e < 3; ++e)
    for (auto& batch : full) reference.push_back(batch.x);
  // Stop in the middle of epoch 1, save the position, continue in a new loader.
  td::DataLoader first(numbered(23), opts);
  std::vector<Tensor> got;
  for (auto& batch : first) got.push_back(batch.x);
  for (int i = 0; i < 2; ++i) got.push_back(first.next()->x);
  const td::DataLoader::State saved = first.state();
  EXPECT_EQ(saved, (td::DataLoader::State{1, 2}));
  td::DataLoader resumed(numbered(23), opts);
  resumed.set_state(saved);
  for (auto& batch : resumed) got.push_back(batch.x);
  for (auto& batch : resumed) got.push_back(batch.x);
  ASSERT_EQ(got.size(), reference.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].to_vector(), reference[i].to_vector()) << "batch " << i;
}

TEST(DataLoader, SameBatchesWithAndWithoutPrefetchAndWithAnyThreads) {
  std::vector<std::vector<float>> runs[3];
  const std::pair<int, int> configs[] = {{0, 1}, {3, 1}, {2, 2}};  // (prefetch, threads)
  for (int r = 0; r < 3; ++r) {
    tg::set_num_threads(configs[r].second);
    td::DataLoader loader(numbered(40), {.batch_size = 7, .shuffle = true, .seed = 5, .transform = td::random_translation(0.5f, 0.5f),
                                         .prefetch = configs[r].first});
    for (int e = 0; e < 2; ++e)
      for (auto& [x, y] : loader) runs[r].push_back(x.to_vector());
  }
  tg::set_num_threads(2);
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_EQ(runs[0], runs[2]);
}

TEST(DataLoader, Errors) {
  EXPECT_ERROR(td::DataLoader(numbered(3), {.batch_size = 0}), {"DataLoader", "batch_size"});
  EXPECT_ERROR(td::DataLoader(nullptr), {"DataLoader", "null"});
  EXPECT_ERROR(td::DataLoader(numbered(3), {.batch_size = 4, .drop_last = true}), {"drop_last", "no batch"});
  td::DataLoader loader(numbered(3), {.batch_size = 2});
  EXPECT_ERROR(loader.set_state({0, 5}), {"set_state", "batch 5", "2 batches"});
  // A failing transform surfaces as the exception of next(), not a crash.
  auto flat = std::make_shared<td::TensorDataset>(Tensor::zeros({3, 5}), Tensor::zeros({3}));
  td::DataLoader wrong_shape(flat, {.batch_size = 2, .transform = td::random_flip()});
  EXPECT_ERROR(wrong_shape.next(), {"random_flip", "(5,)"});
}

TEST(Transforms, ValuesAndDeterminism) {
  const Shape s{2, 3, 1};
  std::vector<float> img = {1, 2, 3, 4, 5, 6};
  tg::Rng rng(1);
  td::scale(0.5f)(img.data(), s, rng);
  EXPECT_EQ(img, (std::vector<float>{0.5f, 1, 1.5f, 2, 2.5f, 3}));
  td::normalize({1.0f}, {0.5f})(img.data(), s, rng);
  EXPECT_EQ(img, (std::vector<float>{-1, 0, 1, 2, 3, 4}));
  // Flip: over many draws about half flip, and a flip mirrors each row.
  int flips = 0;
  for (int i = 0; i < 1000; ++i) {
    std::vector<float> v = {1, 2, 3, 4, 5, 6};
    td::random_flip()(v.data(), s, rng);
    if (v == std::vector<float>{3, 2, 1, 6, 5, 4}) ++flips;
    else EXPECT_EQ(v, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  }
  EXPECT_NEAR(flips, 500, 60);
  // Crop with padding 1 shifts by at most one pixel and keeps the size; zeros come in.
  std::set<std::vector<float>> seen;
  for (int i = 0; i < 300; ++i) {
    std::vector<float> v = {1, 2, 3, 4, 5, 6};
    td::random_crop(1)(v.data(), s, rng);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 9u) << "3 x 3 offsets";
  EXPECT_TRUE(seen.count({0, 0, 0, 0, 1, 2})) << "shifted down and right";
  EXPECT_ERROR(td::normalize({1, 2}, {1}), {"normalize"});
  EXPECT_ERROR(td::random_crop(-1), {"random_crop"});
}
