// A checkpoint saved by a job of one size resumes in a job of another and continues with the
// same samples. `mpi_resume save DIR` (CTest: 2 ranks) trains 7 steps, saves DIR/run.ckpt, trains
// 8 more and writes what those 8 saw (each step's global batch, in order) and the final weights
// to DIR/expected.txt. `mpi_resume resume DIR` (CTest: 1 and 3 ranks) loads the checkpoint, trains
// 8 steps, and checks: the same samples in the same order, and the same weights up to the
// rounding of summing over another number of ranks.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "tapegrad/tapegrad.h"
#include "tapegrad/distributed/distributed.h"

namespace tg = tapegrad;
namespace td = tapegrad::data;
namespace dist = tapegrad::distributed;

namespace {

constexpr int64_t kSamples = 60, kBatch = 12, kFeatures = 5;

// Sample i: 5 random features; its target row holds [i, the value to regress].
std::shared_ptr<td::TensorDataset> samples() {
  tg::Rng rng(17);
  tg::Tensor x = tg::Tensor::randn({kSamples, kFeatures}, rng), y = tg::Tensor::empty({kSamples, 2});
  for (int64_t i = 0; i < kSamples; ++i) {
    float t = 0.0f;
    for (int64_t f = 0; f < kFeatures; ++f) t += static_cast<float>(f + 1) * x.data()[i * kFeatures + f];
    y.data()[i * 2] = static_cast<float>(i);
    y.data()[i * 2 + 1] = t;
  }
  return std::make_shared<td::TensorDataset>(x, y);
}

struct Run {
  std::shared_ptr<tg::Sequential> model;
  std::unique_ptr<td::DataLoader> loader;
  std::unique_ptr<tg::Adam> optimizer;
  std::unique_ptr<dist::GradientAverager> averager;
  tg::TrainingProgress progress;
  tg::TrainingState state() { return {model.get(), optimizer.get(), loader.get(), &progress, {}}; }
};

Run make_run() {
  Run r;
  tg::manual_seed(5);
  r.model = std::make_shared<tg::Sequential>(std::vector<tg::LayerRef>{tg::Dense(8, {.activation = "tanh"}), tg::Dense(1)});
  r.model->build({kFeatures});
  r.loader = std::make_unique<td::DataLoader>(samples(), td::LoaderOptions{.batch_size = kBatch, .shuffle = true, .seed = 3,
                                                                          .shard = dist::data_shard()});
  r.optimizer = std::make_unique<tg::Adam>(r.model->parameters(), tg::AdamOptions{.learning_rate = 1e-2f});
  r.averager = std::make_unique<dist::GradientAverager>(*r.model);
  return r;
}

// One step; returns the sample ids of the whole (global) batch, in order.
std::vector<double> step(Run& r) {
  auto batch = r.loader->next();
  if (!batch) batch = r.loader->next();
  const int64_t rows = batch->x.dim(0);
  tg::Tensor target = tg::Tensor::empty({rows, 1});
  for (int64_t i = 0; i < rows; ++i) target.data()[i] = batch->y.data()[i * 2 + 1];
  auto loss = tg::losses::mean_squared_error(target, (*r.model)(tg::Variable(batch->x), true));
  r.optimizer->zero_grad();
  loss.backward();
  r.averager->average(rows);
  r.optimizer->step();
  ++r.progress.step;
  // This rank's rows sit at [lo, hi) of the global batch, as the loader splits it.
  const int64_t lo = dist::data_shard().rows(kBatch).first;
  std::vector<double> ids(kBatch, 0.0);
  for (int64_t i = 0; i < rows; ++i) ids[static_cast<size_t>(lo + i)] = batch->y.data()[i * 2];
  dist::sum(ids);
  return ids;
}

std::vector<float> weights(const Run& r) {
  std::vector<float> w;
  for (const auto& p : r.model->parameters()) {
    const auto v = p->var.value().to_vector();
    w.insert(w.end(), v.begin(), v.end());
  }
  return w;
}

int fail_with(const std::string& message) {
  std::cerr << "mpi_resume (" << dist::size() << " ranks): " << message << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  dist::Session session(argc, argv);
  if (argc != 3 || (std::string(argv[1]) != "save" && std::string(argv[1]) != "resume")) {
    std::cerr << "usage: mpi_resume save|resume DIR\n";
    return 2;
  }
  const std::string dir = argv[2], checkpoint = dir + "/run.ckpt", expected_path = dir + "/expected.txt";
  Run run = make_run();
  if (std::string(argv[1]) == "save") {
    dist::broadcast_parameters(*run.model);
    for (int s = 0; s < 7; ++s) step(run);
    tg::save_checkpoint(checkpoint, run.state());
    std::ostringstream out;
    for (int s = 0; s < 8; ++s)
      for (double id : step(run)) out << id << " ";
    out << "\n";
    for (float w : weights(run)) out << std::hexfloat << w << " ";
    if (dist::is_root()) std::ofstream(expected_path) << out.str() << "\n";
    std::cout << "saved at step 7 with " << dist::size() << " ranks\n";
    return 0;
  }
  tg::load_checkpoint(checkpoint, run.state());
  const std::vector<float> at_checkpoint = weights(run);
  std::vector<double> ids;
  for (int s = 0; s < 8; ++s)
    for (double id : step(run)) ids.push_back(id);
  std::ifstream in(expected_path);
  std::string id_line, weight_line;
  if (!std::getline(in, id_line) || !std::getline(in, weight_line)) return fail_with("cannot read " + expected_path);
  std::istringstream id_in(id_line), weight_in(weight_line);
  std::vector<double> expected_ids;
  for (double v; id_in >> v;) expected_ids.push_back(v);
  std::vector<float> expected_weights;
  for (std::string t; weight_in >> t;) expected_weights.push_back(std::strtof(t.c_str(), nullptr));
  if (ids != expected_ids) return fail_with("the resumed run saw other samples than the uninterrupted one");
  const std::vector<float> now = weights(run);
  if (now.size() != expected_weights.size()) return fail_with("weight count differs");
  double moved = 0.0, off = 0.0;
  for (size_t i = 0; i < now.size(); ++i) {
    moved = std::max(moved, std::fabs(static_cast<double>(now[i]) - at_checkpoint[i]));
    off = std::max(off, std::fabs(static_cast<double>(now[i]) - expected_weights[i]) / (1.0 + std::fabs(expected_weights[i])));
  }
  if (moved < 1e-3) return fail_with("the weights did not move in 8 steps: the comparison would prove nothing");
  if (off > 1e-4) return fail_with("the weights are " + std::to_string(off) + " off the uninterrupted run's (bound 1e-4)");
  std::cout << "resumed with " << dist::size() << " ranks: the same " << ids.size() << " samples in order; weights within "
            << off << " of the 2-rank run (they moved " << moved << ")\n";
  return 0;
}
