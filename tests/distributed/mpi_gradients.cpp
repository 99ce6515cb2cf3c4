// Under mpirun -np 2 and -np 3 (CTest): averaged gradients are the gradient of the whole batch
// (also through synchronized batch normalization), and fit trains and reports the whole batch,
// the same bits on every rank; 50 sharded training steps keep the parameters identical on every
// rank; models that differ between ranks, and files only some ranks could read, are errors on
// every rank.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <numeric>
#include <sstream>

#include "../error_matchers.h"
#include "../temp_dir.h"
#include "tapegrad/autograd/nn_ops.h"
#include "tapegrad/autograd/ops.h"
#include "tapegrad/core/tensor_ops.h"
#include "tapegrad/data/data_loader.h"
#include "tapegrad/distributed/distributed.h"
#include "tapegrad/layers/activation_layers.h"
#include "tapegrad/layers/batch_normalization.h"
#include "tapegrad/layers/conv.h"
#include "tapegrad/layers/dense.h"
#include "tapegrad/layers/dropout.h"
#include "tapegrad/layers/reshaping.h"
#include "tapegrad/layers/sequential.h"
#include "tapegrad/optim/adam.h"
#include "tapegrad/optim/sgd.h"
#include "tapegrad/train/checkpoint.h"
#include "tapegrad/train/fit.h"
#include "tapegrad/train/metrics.h"
#include "tapegrad/train/simple_callbacks.h"
#include "tapegrad/train/losses.h"

namespace tg = tapegrad;
namespace td = tapegrad::data;
namespace dist = tapegrad::distributed;
using tg::Tensor;
using tg::Variable;

namespace {

std::shared_ptr<tg::Sequential> small_cnn(bool with_batch_norm) {
  std::vector<tg::LayerRef> layers{tg::Conv2D(4, 3, {.activation = "relu"})};
  if (with_batch_norm) layers.push_back(tg::BatchNormalization());
  layers.push_back(tg::Flatten());
  if (with_batch_norm) layers.push_back(tg::Dropout(0.2f));
  layers.push_back(tg::Dense(3));
  auto model = std::make_shared<tg::Sequential>(layers);
  model->build({6, 6, 2});
  return model;
}

// The gradients of the model's trainable parameters (copies).
std::vector<Tensor> gradients(const tg::Layer& model) {
  std::vector<Tensor> out;
  for (const auto& p : model.trainable_parameters()) out.push_back(p->var.grad().defined() ? p->var.grad().clone() : Tensor());
  return out;
}

// Rank 0's copy of each tensor, for comparing ranks bit for bit.
std::vector<Tensor> root_copies(const std::vector<Tensor>& tensors) {
  std::vector<Tensor> out;
  for (const Tensor& t : tensors) {
    Tensor c = t.clone();
    dist::broadcast(std::span<float>(c.data(), static_cast<size_t>(c.numel())));
    out.push_back(c);
  }
  return out;
}

// Rows [lo, hi) of t.
Tensor rows(const Tensor& t, int64_t lo, int64_t hi) {
  std::vector<int64_t> idx(static_cast<size_t>(hi - lo));
  std::iota(idx.begin(), idx.end(), lo);
  return tg::take_rows(t, idx);
}

}  // namespace

TEST(Distributed, AveragedGradientsAreTheGradientOfTheWholeBatchOnEveryRank) {
  const int ranks = dist::size(), me = dist::rank();
  ASSERT_GT(ranks, 1) << "run under mpirun -np 2 or more";
  for (const int64_t batch : {12, 7}) {  // even shards, and shards of 2 and 3 rows (uneven at 2 and 3 ranks)
    SCOPED_TRACE("batch " + std::to_string(batch));
    tg::manual_seed(static_cast<uint64_t>(100 + me));  // each rank builds other weights...
    auto model = small_cnn(false);
    dist::broadcast_parameters(*model);  // ...and starts from rank 0's
    tg::Rng rng(11);
    const Tensor x = Tensor::randn({batch, 6, 6, 2}, rng);
    Tensor y = Tensor::empty({batch});
    for (int64_t i = 0; i < batch; ++i) y.data()[i] = static_cast<float>(i % 3);

    // What one process computes for the whole batch.
    auto whole = tg::losses::sparse_categorical_crossentropy(y, (*model)(Variable(x), true), {.from_logits = true});
    whole.backward();
    const std::vector<Tensor> expected = gradients(*model);
    for (const auto& p : model->parameters()) p->var.zero_grad();

    // This rank's rows, then the average.
    const int64_t lo = batch * me / ranks, hi = batch * (me + 1) / ranks;
    auto part = tg::losses::sparse_categorical_crossentropy(rows(y, lo, hi), (*model)(Variable(rows(x, lo, hi)), true),
                                                            {.from_logits = true});
    part.backward();
    const std::vector<Tensor> local = gradients(*model);
    dist::GradientAverager averager(*model);
    averager.average(hi - lo);
    const std::vector<Tensor> averaged = gradients(*model);

    ASSERT_EQ(averaged.size(), expected.size());
    double local_error = 0.0;
    for (size_t i = 0; i < expected.size(); ++i) {
      for (int64_t k = 0; k < expected[i].numel(); ++k) {
        const float e = expected[i].data()[k];
        EXPECT_NEAR(averaged[i].data()[k], e, 2e-6 * (1.0 + std::fabs(e))) << "parameter " << i << " element " << k;
        local_error = std::max(local_error, std::fabs(static_cast<double>(local[i].data()[k]) - e));
      }
    }
    EXPECT_GT(local_error, 1e-3) << "a rank's own gradient is not the whole batch's: the test would catch a no-op";
    const std::vector<Tensor> roots = root_copies(averaged);
    for (size_t i = 0; i < averaged.size(); ++i)
      EXPECT_EQ(averaged[i].to_vector(), roots[i].to_vector()) << "parameter " << i << ": the same bits on every rank";
    EXPECT_EQ(averager.last_traffic().buckets, 1);
    EXPECT_GT(averager.last_traffic().bytes_sent, 0);
  }
}

TEST(Distributed, SmallBucketsSplitParametersAndGiveTheSameBits) {
  tg::manual_seed(5);
  auto model = small_cnn(false);
  dist::broadcast_parameters(*model);
  tg::Rng rng(static_cast<uint64_t>(20 + dist::rank()));  // each rank its own rows
  const Tensor x = Tensor::randn({4, 6, 6, 2}, rng);
  const Tensor y = Tensor::from({4}, {0, 1, 2, 0});
  auto run = [&](int64_t bucket_bytes, int64_t* buckets) {
    for (const auto& p : model->parameters()) p->var.zero_grad();
    tg::losses::sparse_categorical_crossentropy(y, (*model)(Variable(x), true), {.from_logits = true}).backward();
    dist::GradientAverager averager(*model, {.bucket_bytes = bucket_bytes});
    averager.average(4);
    *buckets = averager.last_traffic().buckets;
    return gradients(*model);
  };
  int64_t one = 0, many = 0;
  const auto big = run(25 << 20, &one);
  const auto small = run(4 * 37, &many);  // 37 floats: buckets end inside parameters
  EXPECT_EQ(one, 1);
  int64_t elements = 0;
  for (const auto& g : big) elements += g.numel();
  EXPECT_EQ(many, (elements + 36) / 37);
  for (size_t i = 0; i < big.size(); ++i) EXPECT_EQ(big[i].to_vector(), small[i].to_vector()) << "parameter " << i;
}

TEST(Distributed, AParameterWithoutAGradientOnSomeRanksCountsAsZeroThereAndOnNoneKeepsNone) {
  const int ranks = dist::size(), me = dist::rank();
  tg::manual_seed(1);
  auto a = std::make_shared<tg::Dense>(2), b = std::make_shared<tg::Dense>(2), c = std::make_shared<tg::Dense>(2);
  tg::Sequential model(std::vector<tg::LayerRef>{a, b, c});
  model.build({3});
  const Tensor x = Tensor::from({1, 3}, {1, 2, 3});
  Variable loss = tg::sum((*a)(Variable(x)));
  if (me == 0) loss = loss + tg::sum((*b)(Variable(Tensor::from({1, 2}, {1, 5}))));  // b only on rank 0, c nowhere
  loss.backward();
  dist::GradientAverager averager(model);
  averager.average(1);
  // Dense(2)'s kernel gradient of sum(x W + b) is x repeated per unit; the bias's is 1.
  const float share = 1.0f / static_cast<float>(ranks);
  ASSERT_TRUE(a->parameters()[0]->var.grad().defined());
  EXPECT_FLOAT_EQ(a->parameters()[0]->var.grad().data()[0], 1.0f) << "the average of the same gradient";
  ASSERT_TRUE(b->parameters()[0]->var.grad().defined()) << "defined on every rank once any rank has it";
  EXPECT_FLOAT_EQ(b->parameters()[0]->var.grad().data()[0], share) << "rank 0's gradient over the ranks";
  EXPECT_FLOAT_EQ(b->parameters()[1]->var.grad().data()[0], share);
  EXPECT_FALSE(c->parameters()[0]->var.grad().defined()) << "no rank had one: the optimizer skips it";
}

TEST(Distributed, FiftyShardedStepsKeepTheParametersIdenticalOnEveryRank) {
  tg::manual_seed(static_cast<uint64_t>(40 + dist::rank()));  // other dropout masks, other initial weights
  auto model = small_cnn(true);
  dist::broadcast_parameters(*model);
  tg::Rng rng(3);
  Tensor x = Tensor::randn({60, 6, 6, 2}, rng), y = Tensor::empty({60});
  for (int64_t i = 0; i < 60; ++i) y.data()[i] = static_cast<float>((x.data()[i * 72] > 0) + (x.data()[i * 72 + 1] > 0));
  td::DataLoader loader(std::make_shared<td::TensorDataset>(x, y),
                        {.batch_size = 12, .shuffle = true, .seed = 2, .shard = dist::data_shard()});
  tg::Adam optimizer(model->parameters(), {.learning_rate = 3e-3f});
  dist::GradientAverager averager(*model);
  double first = 0.0, last = 0.0;
  for (int step = 0; step < 50; ++step) {
    auto batch = loader.next();
    if (!batch) batch = loader.next();
    auto loss = tg::losses::sparse_categorical_crossentropy(batch->y, (*model)(Variable(batch->x), true), {.from_logits = true});
    optimizer.zero_grad();
    loss.backward();
    averager.average(batch->x.dim(0));
    optimizer.step();
    const double mean = dist::sum(loss.item() * static_cast<double>(batch->x.dim(0))) / 12.0;
    if (step < 5) first += mean / 5;
    if (step >= 45) last += mean / 5;
  }
  EXPECT_LT(last, 0.8 * first) << "it learned: the mean loss of the whole batches fell";
  for (const auto& p : model->parameters()) {  // the moving statistics too: rank 0's, after each average()
    Tensor root = p->var.value().clone();
    dist::broadcast(std::span<float>(root.data(), static_cast<size_t>(root.numel())));
    EXPECT_EQ(p->var.value().to_vector(), root.to_vector()) << p->name << " differs from rank 0's";
  }
}

TEST(Distributed, ModelsThatDifferBetweenRanksAreAnErrorOnEveryRank) {
  tg::Sequential model(std::vector<tg::LayerRef>{tg::Dense(4), tg::Dense(dist::rank() == 1 ? 5 : 2)});
  model.build({3});
  EXPECT_TG_ERROR(dist::broadcast_parameters(model), "check_same_parameters", "on rank 1 of", "dense_1/kernel",
                  "(4, 5) here", "(4, 2) on rank 0");
  EXPECT_TG_ERROR(dist::GradientAverager{model}, "check_same_parameters", "on rank 1 of");
  tg::Sequential unbuilt(std::vector<tg::LayerRef>{tg::Dense(4)});
  EXPECT_TG_ERROR(dist::broadcast_parameters(unbuilt), "check_same_parameters", "no parameters", "build it");
}

TEST(Distributed, AFileRank0CannotReadIsTheSameErrorOnEveryRank) {
  tg::Sequential model(std::vector<tg::LayerRef>{tg::Dense(2)});
  model.build({3});
  EXPECT_TG_ERROR(tg::load_checkpoint("/nonexistent/run.ckpt", {&model}), "load_checkpoint", "/nonexistent/run.ckpt",
                  "on rank 0 of");
}

TEST(Distributed, Rank0WritesTheCheckpointAndEveryRankLoadsItsBytes) {
  // Each rank names a file in a folder of its own: only rank 0's is written, and the others load
  // rank 0's bytes although their own path holds nothing (no shared file system needed).
  const std::string path = (tg::testing::temp_dir("distributed_checkpoint") / "model.ckpt").string();
  tg::manual_seed(static_cast<uint64_t>(7 + dist::rank()));
  tg::Sequential model(std::vector<tg::LayerRef>{tg::Dense(2)});
  model.build({3});
  tg::save_checkpoint(path, {&model});
  EXPECT_EQ(std::filesystem::exists(path), dist::is_root()) << "rank 0 writes, the others do not";
  Tensor root = model.parameters()[0]->var.value().clone();
  dist::broadcast(std::span<float>(root.data(), static_cast<size_t>(root.numel())));
  tg::manual_seed(99);
  tg::Sequential other(std::vector<tg::LayerRef>{tg::Dense(2)});
  other.build({3});
  tg::load_checkpoint(path, {&other});
  EXPECT_EQ(other.parameters()[0]->var.value().to_vector(), root.to_vector()) << "rank 0's weights, loaded everywhere";
}

TEST(Distributed, FitTrainsOnEachRanksRowsAndReportsTheWholeBatch) {
  // One SGD step on one whole batch of 10 (an uneven split at 3 ranks): the weights and the logs
  // must be what one process computes for all 10 rows, and only rank 0 prints.
  tg::manual_seed(static_cast<uint64_t>(60 + dist::rank()));  // fit starts everyone from rank 0's weights
  auto model = std::make_shared<tg::Sequential>(std::vector<tg::LayerRef>{tg::Dense(3)});
  model->build({4});
  tg::Rng rng(8);
  const Tensor x = Tensor::randn({10, 4}, rng);
  const Tensor y = Tensor::from({10}, {0, 1, 2, 0, 1, 2, 0, 1, 2, 0});

  // Rank 0's weights, stepped by hand on the whole batch: what fit must end with.
  auto reference = std::make_shared<tg::Sequential>(std::vector<tg::LayerRef>{tg::Dense(3)});
  reference->build({4});
  for (size_t i = 0; i < model->parameters().size(); ++i) {
    Tensor w = model->parameters()[i]->var.value().clone();
    dist::broadcast(std::span<float>(w.data(), static_cast<size_t>(w.numel())));
    reference->parameters()[i]->var.value().copy_from(w);
  }
  auto whole = tg::losses::sparse_categorical_crossentropy(y, (*reference)(Variable(x), true), {.from_logits = true});
  const Tensor predictions = (*reference)(Variable(x), false).value();
  whole.backward();
  tg::SGD reference_sgd(reference->parameters(), {.learning_rate = 0.5f});
  reference_sgd.step();
  tg::metrics::SparseCategoricalAccuracy accuracy_of_all;
  accuracy_of_all.update_state(y, predictions);

  tg::SGD sgd(model->parameters(), {.learning_rate = 0.5f});
  std::ostringstream printed;
  // Each rank names a file in a folder of its own: only rank 0's is written.
  const std::string csv = (tg::testing::temp_dir("distributed_fit") / "log.csv").string();
  const tg::History h = tg::fit(*model, sgd, tg::losses::SparseCategoricalCrossentropy({.from_logits = true}), x, y,
                                {.epochs = 1, .batch_size = 10, .shuffle = false,
                                 .metrics = {std::make_shared<tg::metrics::SparseCategoricalAccuracy>()},
                                 .callbacks = {std::make_shared<tg::CSVLogger>(csv)},
                                 .verbose = 2, .progress = {.out = &printed}});
  EXPECT_EQ(std::filesystem::exists(csv), dist::is_root()) << "rank 0 writes the CSV log";
  EXPECT_NEAR(h["loss"][0], whole.item(), 1e-6) << "the loss of all 10 rows, not of this rank's";
  EXPECT_DOUBLE_EQ(h["sparse_categorical_accuracy"][0], accuracy_of_all.result());
  for (size_t i = 0; i < model->parameters().size(); ++i) {
    const Tensor& got = model->parameters()[i]->var.value();
    const Tensor& want = reference->parameters()[i]->var.value();
    for (int64_t k = 0; k < got.numel(); ++k)
      EXPECT_NEAR(got.data()[k], want.data()[k], 1e-6) << "parameter " << i << " element " << k;
  }
  EXPECT_EQ(printed.str().empty(), !dist::is_root()) << "only rank 0 prints: '" << printed.str() << "'";
  const tg::Logs evaluated = tg::evaluate(*model, tg::losses::SparseCategoricalCrossentropy({.from_logits = true}), x, y);
  const double mine = *evaluated.get("loss"), mean = dist::sum(mine) / dist::size();
  EXPECT_NEAR(mine, mean, 1e-12) << "evaluate reports the same on every rank";
  EXPECT_NEAR(mine, h["loss"][0], 0.5) << "and a loss of the model (after one step)";
}

TEST(Distributed, SynchronizedBatchNormalizationTrainsAsOneProcessOnTheWholeBatch) {
  // With synchronized statistics, each rank's rows normalized with the job's batch mean and
  // variance, and the averaged gradients and the moving statistics, are one process's on the
  // whole batch; per-process statistics (the default) give other gradients.
  const int ranks = dist::size(), me = dist::rank();
  auto make = [](bool synchronized) {
    auto m = std::make_shared<tg::Sequential>(std::vector<tg::LayerRef>{
        tg::Conv2D(4, 3), tg::BatchNormalization({.synchronized = synchronized}), tg::ReLU(), tg::Flatten(), tg::Dense(3)});
    m->build({6, 6, 2});
    return m;
  };
  for (const int64_t batch : {12, 7}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    tg::manual_seed(3);
    auto reference = make(false), synced = make(true), separate = make(false);
    synced->set_weights(reference->get_weights());
    separate->set_weights(reference->get_weights());
    tg::Rng rng(12);
    const Tensor x = Tensor::randn({batch, 6, 6, 2}, rng, 1.5f, 2.0f);
    Tensor y = Tensor::empty({batch});
    for (int64_t i = 0; i < batch; ++i) y.data()[i] = static_cast<float>(i % 3);
    tg::losses::sparse_categorical_crossentropy(y, (*reference)(Variable(x), true), {.from_logits = true}).backward();

    const int64_t lo = batch * me / ranks, hi = batch * (me + 1) / ranks;
    for (auto* model : {&synced, &separate}) {
      tg::losses::sparse_categorical_crossentropy(rows(y, lo, hi), (**model)(Variable(rows(x, lo, hi)), true),
                                                  {.from_logits = true})
          .backward();
      dist::GradientAverager(**model).average(hi - lo);
    }
    const auto want = gradients(*reference), got = gradients(*synced), unsynced = gradients(*separate);
    double unsynced_error = 0.0;
    for (size_t i = 0; i < want.size(); ++i)
      for (int64_t k = 0; k < want[i].numel(); ++k) {
        const float e = want[i].data()[k];
        EXPECT_NEAR(got[i].data()[k], e, 1e-5 * (1.0 + std::fabs(e))) << "parameter " << i << " element " << k;
        unsynced_error = std::max(unsynced_error, std::fabs(static_cast<double>(unsynced[i].data()[k]) - e));
      }
    EXPECT_GT(unsynced_error, 1e-3) << "per-process statistics give other gradients: the test can fail";
    const auto bn_want = reference->get_named_weights(), bn_got = synced->get_named_weights();
    for (const auto& [name, value] : bn_want)
      if (name.find("moving") != std::string::npos) {
        const auto a = value.to_vector(), b = bn_got.at(name).to_vector();
        for (size_t k = 0; k < a.size(); ++k) EXPECT_NEAR(b[k], a[k], 1e-5 * (1.0 + std::fabs(a[k]))) << name;
      }
  }
}

TEST(Distributed, EachRankDrawsOtherDropoutMasksButTheGeneratorsStayAlike) {
  // Ranks seeded alike would otherwise drop the same units of their rows; their generators'
  // states must still agree (however many rows each has), so that rank 0's checkpoint continues
  // every rank.
  tg::Rng rng(3);
  const Tensor mask = tg::dropout_mask({256}, 0.5f, rng);
  tg::dropout_mask({1 + 50 * dist::rank()}, 0.5f, rng);  // unevenly split rows: other sizes per rank
  Tensor root = mask.clone();
  dist::broadcast(std::span<float>(root.data(), static_cast<size_t>(root.numel())));
  if (!dist::is_root()) EXPECT_NE(mask.to_vector(), root.to_vector()) << "rank " << dist::rank() << " drew rank 0's mask";
  if (dist::is_root()) tg::dropout_mask({8}, 0.5f, rng), tg::dropout_mask({8}, 0.5f, rng);  // a mask drawn alone needs no other rank
  if (!dist::is_root()) tg::dropout_mask({8}, 0.5f, rng), tg::dropout_mask({9}, 0.5f, rng);
  const Tensor next = tg::dropout_mask({64}, 0.5f, rng);
  Tensor next_root = next.clone();
  dist::broadcast(std::span<float>(next_root.data(), static_cast<size_t>(next_root.numel())));
  if (!dist::is_root()) EXPECT_NE(next.to_vector(), next_root.to_vector());
  int ones = 0;
  for (float v : next.to_vector()) ones += v > 0.0f;
  EXPECT_GT(ones, 16) << "about half kept";
  EXPECT_LT(ones, 48);
  double state[2] = {static_cast<double>(rng.state().seed), static_cast<double>(rng.state().counter)};
  const double mine[2] = {state[0], state[1]};
  dist::sum(state);
  EXPECT_EQ(state[0], mine[0] * dist::size());
  EXPECT_EQ(state[1], mine[1] * dist::size()) << "every rank's generator advanced alike";
}

TEST(Distributed, ASummedLossAndAFileRank0CannotWriteAreErrorsOnEveryRank) {
  tg::Sequential model(std::vector<tg::LayerRef>{tg::Dense(3)});
  model.build({4});
  tg::SGD sgd(model.parameters(), {.learning_rate = 0.1f});
  const Tensor x = Tensor::zeros({6, 4}), y = Tensor::from({6}, {0, 1, 2, 0, 1, 2});
  // Averaging is right for mean losses only: a summed one would be off by the number of ranks.
  EXPECT_TG_ERROR(tg::fit(model, sgd, tg::losses::SparseCategoricalCrossentropy({.from_logits = true}, tg::losses::Reduction::sum),
                          x, y, {.batch_size = 6, .verbose = 0}),
                  "fit", "reduces by sum", "sum_over_batch_size");
  // Rank 0 fails to write; the others learn it from rank 0 instead of going on without it.
  EXPECT_TG_ERROR(tg::save_checkpoint("/nonexistent/folder/run.ckpt", {&model}), "save_checkpoint", "/nonexistent/folder",
                  "on rank 0 of");
  EXPECT_TG_ERROR(tg::save_weights("/nonexistent/folder/w.ckpt", model), "save_weights", "on rank 0 of");
}
