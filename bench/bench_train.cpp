// End-to-end training (or inference) throughput of Keras' cifar10_cnn or a 784-512-512-10 MLP on
// synthetic data, measured the way ../shared/bench/torch_cifar_cnn.py measures PyTorch: warm-up
// steps, then timed chunks; prints each chunk, then one JSON line with the median images/s, the
// implied GFLOP/s (2 * MACs of conv/dense layers; training = 3x forward) and the peak RSS.
//   build/bench/bench_train --model cnn --batch 128 --threads 2 --mode train [--profile] [--mixed-precision]
// --mixed-precision builds the model under Keras' mixed_bfloat16 policy; the JSON line names the
// policy and the bf16 instruction set that served it. --distributed, under mpirun, trains data
// parallel: the JSON line adds the processes and the bytes each sent per step.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <numeric>
#include <string>

#include "support/models.h"
#include "tapegrad/distributed/distributed.h"
#include "tapegrad/tapegrad.h"

namespace tg = tapegrad;

namespace {

struct Options {
  std::string model = "cnn", mode = "train", optimizer = "rmsprop";
  int64_t batch = 128;
  int threads = 2, warmup = 10, chunks = 7, steps = 0;
  bool profile = false, mixed_precision = false, distributed = false;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string f = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(f + " needs a value");
      return argv[++i];
    };
    if (f == "--model") o.model = value();
    else if (f == "--mode") o.mode = value();
    else if (f == "--optimizer") o.optimizer = value();
    else if (f == "--batch") o.batch = std::stoll(value());
    else if (f == "--threads") o.threads = std::stoi(value());
    else if (f == "--warmup") o.warmup = std::stoi(value());
    else if (f == "--chunks") o.chunks = std::stoi(value());
    else if (f == "--steps") o.steps = std::stoi(value());
    else if (f == "--profile") o.profile = true;
    else if (f == "--mixed-precision") o.mixed_precision = true;
    else if (f == "--distributed") o.distributed = true;
    else if (f == "--help") {
      std::cout << "usage: bench_train [--model cnn|mlp|resnet20|mobilenet|textcnn|lstm] [--mode train|infer] [--batch N]\n"
                   "                   [--threads N] [--optimizer rmsprop|adam|sgd] [--warmup N] [--chunks N] [--steps N]\n"
                   "                   [--profile] [--mixed-precision] [--distributed]\n"
                   "--distributed (under mpirun): data parallel, --batch is the whole job's batch, rank 0 reports\n";
      std::exit(0);
    } else throw std::invalid_argument("unknown option " + f);
  }
  if (o.model != "cnn" && o.model != "mlp" && o.model != "resnet20" && o.model != "mobilenet" && o.model != "textcnn" &&
      o.model != "lstm")
    throw std::invalid_argument("--model is cnn, mlp, resnet20, mobilenet, textcnn or lstm");
  if (o.optimizer != "rmsprop" && o.optimizer != "adam" && o.optimizer != "sgd")
    throw std::invalid_argument("--optimizer is rmsprop, adam or sgd");
  if (o.mode != "train" && o.mode != "infer") throw std::invalid_argument("--mode is train or infer");
  return o;
}

std::shared_ptr<tg::Sequential> mlp() {
  return std::make_shared<tg::Sequential>(std::vector<tg::LayerRef>{
      tg::Dense(512, {.activation = "relu"}), tg::Dense(512, {.activation = "relu"}), tg::Dense(10)});
}

// The MobileNet-v1-style twin of ../shared/bench/torch_zoo.py: a 3x3 stem, five depthwise 3x3 +
// pointwise 1x1 blocks (BN and ReLU layers after each), global average pooling, a dense head.
// `macs` gets its multiply-accumulates per image.
std::shared_ptr<tg::Sequential> mobilenet(double* macs) {
  std::vector<tg::LayerRef> layers{tg::Conv2D(32, 3, {.padding = "same", .use_bias = false}), tg::BatchNormalization(),
                                   tg::ReLU()};
  int64_t f = 32, size = 32;
  *macs = 32.0 * 32 * 27 * 32;
  for (auto [nf, stride] : std::vector<std::pair<int64_t, int64_t>>{{64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}}) {
    layers.push_back(tg::DepthwiseConv2D(3, {.strides = stride, .padding = "same", .use_bias = false}));
    layers.push_back(tg::BatchNormalization());
    layers.push_back(tg::ReLU());
    layers.push_back(tg::Conv2D(nf, 1, {.use_bias = false}));
    layers.push_back(tg::BatchNormalization());
    layers.push_back(tg::ReLU());
    size /= stride;
    *macs += static_cast<double>(size * size) * (9.0 * f + static_cast<double>(f * nf));
    f = nf;
  }
  layers.push_back(tg::GlobalAveragePooling2D());
  layers.push_back(tg::Dense(10));
  *macs += static_cast<double>(f) * 10;
  return std::make_shared<tg::Sequential>(layers);
}

// The text CNN of ../shared/bench/torch_zoo.py: Embedding(20000, 128) on 200 tokens, two
// Conv1D(128, 5) + MaxPooling1D(5), a third Conv1D(128, 5), global max pooling, Dense(128),
// Dense(10). Lengths 200 -> 196 -> 39 -> 35 -> 7 -> 3.
constexpr int64_t kTextVocabulary = 20000, kTextLength = 200;
std::shared_ptr<tg::Sequential> textcnn(double* macs) {
  *macs = (196.0 + 35.0 + 3.0) * 5 * 128 * 128 + 128.0 * 128 + 128.0 * 10;
  return std::make_shared<tg::Sequential>(std::vector<tg::LayerRef>{
      tg::Embedding(kTextVocabulary, 128), tg::Conv1D(128, 5, {.activation = "relu"}), tg::MaxPooling1D(5),
      tg::Conv1D(128, 5, {.activation = "relu"}), tg::MaxPooling1D(5), tg::Conv1D(128, 5, {.activation = "relu"}),
      tg::GlobalMaxPooling1D(), tg::Dense(128, {.activation = "relu"}), tg::Dense(10)});
}

// The sequence model of the recurrent issue: LSTM(256) over 100 steps of 64 features, then
// Dense(10) on its last output (bench/torch_zoo.py's twin: nn.LSTM and nn.Linear).
constexpr int64_t kLstmSteps = 100, kLstmFeatures = 64, kLstmUnits = 256;
std::shared_ptr<tg::Sequential> lstm(double* macs) {
  *macs = static_cast<double>(kLstmSteps) * 4 * kLstmUnits * (kLstmFeatures + kLstmUnits) + kLstmUnits * 10.0;
  return std::make_shared<tg::Sequential>(std::vector<tg::LayerRef>{tg::LSTM(kLstmUnits), tg::Dense(10)});
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    o = parse(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "bench_train: " << e.what() << "\n";
    return 2;
  }
  // Data parallel under mpirun: each rank trains on its rows of the batch; rank 0 reports.
  std::unique_ptr<tg::distributed::Session> session;
  if (o.distributed) {
    if (!tg::distributed::built_with_mpi()) {
      std::cerr << "bench_train: --distributed: this build has no MPI (TAPEGRAD_MPI)\n";
      return 2;
    }
    session = std::make_unique<tg::distributed::Session>(argc, argv);
    if (o.batch < tg::distributed::size()) {
      std::cerr << "bench_train: --batch " << o.batch << " is smaller than the " << tg::distributed::size() << " processes\n";
      return 2;
    }
  }
  const bool speak = tg::distributed::is_root();
  if (!speak) std::cout.rdbuf(nullptr);
  tg::set_num_threads(o.threads);
  tg::manual_seed(0);
  tg::mixed_precision::set_global_policy(o.mixed_precision ? "mixed_bfloat16" : "float32");
  const bool cnn = o.model == "cnn", resnet = o.model == "resnet20", mobile = o.model == "mobilenet";
  const bool text = o.model == "textcnn", sequence = o.model == "lstm";
  std::shared_ptr<tg::Layer> model;
  double counted_macs = 0.0;  // mobilenet, textcnn, lstm
  if (cnn) model = examples::keras_cifar10_cnn();
  else if (resnet) model = std::make_shared<examples::ResNet20>();
  else if (mobile) model = mobilenet(&counted_macs);
  else if (text) model = textcnn(&counted_macs);
  else if (sequence) model = lstm(&counted_macs);
  else model = mlp();
  const tg::Shape sample = cnn || resnet || mobile ? tg::Shape{32, 32, 3}
                           : text                  ? tg::Shape{kTextLength}
                           : sequence              ? tg::Shape{kLstmSteps, kLstmFeatures}
                                                   : tg::Shape{784};
  model->build(sample);
  // 2 * MACs of the conv and dense layers per image, as the PyTorch script counts them
  // (ResNet-20: 40.55M MACs, He et al. 2016).
  const double fwd_flops = cnn ? 2.0 * (32 * 32 * 27 * 32 + 30 * 30 * 288 * 32 + 15 * 15 * 288 * 64 + 13 * 13 * 576 * 64 +
                                        2304 * 512 + 512 * 10)
                         : resnet ? 2.0 * 40.55e6
                         : mobile || text || sequence ? 2.0 * counted_macs
                                  : 2.0 * (784 * 512 + 512 * 512 + 512 * 10);
  const double flops_per_img = fwd_flops * (o.mode == "train" ? 3.0 : 1.0);
  tg::Rng rng(1);
  tg::Shape xs{o.batch};
  for (int64_t d : sample) xs.push_back(d);
  tg::Tensor x = tg::Tensor::randn(xs, rng);
  if (text)  // token ids
    for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = static_cast<float>(rng.uniform_int(kTextVocabulary));
  tg::Tensor y = tg::Tensor::empty({o.batch});
  for (int64_t i = 0; i < o.batch; ++i) y.data()[i] = static_cast<float>(rng.uniform_int(10));
  std::unique_ptr<tg::distributed::GradientAverager> averager;
  if (o.distributed) {  // this rank's rows, as DataLoader's shards split a batch
    const auto [lo, hi] = tg::distributed::data_shard().rows(o.batch);
    std::vector<int64_t> rows(static_cast<size_t>(hi - lo));
    std::iota(rows.begin(), rows.end(), lo);
    x = tg::take_rows(x, rows);
    y = tg::take_rows(y, rows);
    tg::distributed::broadcast_parameters(*model);
    averager = std::make_unique<tg::distributed::GradientAverager>(*model);
  }
  std::unique_ptr<tg::Optimizer> opt;
  if (o.optimizer == "adam")
    opt = std::make_unique<tg::Adam>(model->parameters(), tg::AdamOptions{.learning_rate = 1e-3f});
  else if (o.optimizer == "sgd")  // as the PyTorch zoo script trains
    opt = std::make_unique<tg::SGD>(model->parameters(), tg::SGDOptions{.learning_rate = 0.01f, .momentum = 0.9f});
  else
    opt = std::make_unique<tg::RMSprop>(model->parameters(), tg::RMSpropOptions{.learning_rate = 1e-4f});

  auto step = [&] {
    if (o.mode == "infer") {
      tg::NoGradGuard no_grad;
      tg::profiler::mark();
      model->operator()(tg::Variable(x), false);
      return;
    }
    tg::profiler::mark();
    auto loss = tg::losses::sparse_categorical_crossentropy(y, (*model)(tg::Variable(x), true), {.from_logits = true});
    opt->zero_grad();
    loss.backward();
    if (averager) {
      tg::profiler::ProfileScope scope("average_gradients");
      averager->average(x.dim(0));
    }
    tg::profiler::ProfileScope scope("optimizer.step");
    opt->step();
  };
  const int steps = o.steps > 0 ? o.steps : std::max<int>(20, static_cast<int>((2560 + o.batch - 1) / o.batch));
  for (int i = 0; i < o.warmup; ++i) step();
  if (o.profile) tg::profiler::enable();
  std::vector<double> rates;
  for (int c = 0; c < o.chunks; ++c) {
    tg::distributed::barrier();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < steps; ++i) step();
    tg::distributed::barrier();
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(steps * static_cast<double>(o.batch) / dt);
    if (speak) std::printf("chunk %d: %.1f img/s  (%.2f ms/step)\n", c, rates.back(), dt / steps * 1e3);
  }
  if (o.profile) std::cout << "\nper-op profile (" << o.chunks * steps << " steps):\n" << tg::profiler::table(25) << "\n";
  std::vector<double> sorted = rates;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  if (!speak) return 0;
  const int64_t bytes_per_step = averager ? averager->last_traffic().bytes_sent : 0;
  std::printf(
      "{\"framework\": \"tapegrad\", \"processes\": %d, \"bytes_sent_per_step_per_rank\": %lld, \"model\": \"%s\", \"mode\": \"%s\", \"batch\": %lld, \"threads\": %d, \"optimizer\": \"%s\", "
      "\"steps_per_chunk\": %d, \"chunks\": %d, \"median_img_s\": %.1f, \"min_img_s\": %.1f, \"max_img_s\": %.1f, "
      "\"mflop_per_img\": %.2f, \"median_gflop_s\": %.1f, \"peak_rss_mib\": %.0f, \"policy\": \"%s\", \"bf16_isa\": \"%s\"}\n",
      tg::distributed::size(), static_cast<long long>(bytes_per_step), o.model.c_str(), o.mode.c_str(), static_cast<long long>(o.batch), o.threads, o.optimizer.c_str(), steps, o.chunks, median,
      sorted.front(), sorted.back(), flops_per_img / 1e6, median * flops_per_img / 1e9, usage.ru_maxrss / 1024.0,
      o.mixed_precision ? "mixed_bfloat16" : "float32", o.mixed_precision ? tg::bf16_isa_name(tg::bf16_isa()) : "none");
  return 0;
}
