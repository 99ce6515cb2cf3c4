#pragma once
// Data-parallel training over MPI, the way Horovod and PyTorch's DDP do it: every process holds
// the whole model, trains on its own part of each batch, and the gradients are averaged before
// the optimizer step, so every process takes the same step.
//
//   int main(int argc, char** argv) {
//     tg::distributed::Session session(argc, argv);  // MPI_Init here, MPI_Finalize at its end
//     ...
//     td::DataLoader train(data, {.batch_size = 128, .shuffle = true, .seed = 1,
//                                 .shard = tg::distributed::data_shard()});  // 128 over all ranks
//     tg::distributed::broadcast_parameters(*model);  // rank 0's weights everywhere; checks shapes
//     tg::distributed::GradientAverager averager(*model);
//     for (auto& [x, y] : train) {
//       auto loss = ...;                               // the mean over this rank's rows
//       optimizer.zero_grad();
//       loss.backward();
//       averager.average(x.dim(0));                    // the gradient of the whole batch's mean
//       optimizer.step();
//     }
//   }
//
// Run it with `mpirun -np 4 program`; started without mpirun (or in a build without MPI) the same
// program is one process of rank 0 and every call here does what one process needs.
//
// Determinism: gradients are summed in rank order, each element by one rank, and sent back to
// all, so every rank holds the same bits and a run is repeatable for a given number of processes
// (MPI's own reductions may change their order with the message size and the rank).
//
// Errors: an exception that leaves main, or that unwinds through the Session, ends the whole job
// (MPI_Abort) after printing its message with the rank: the other ranks never wait forever in a
// collective for a rank that is gone. Checks that every rank makes (shapes, files) fail on every
// rank with the same message.
//
// Files: save_checkpoint and save_weights write on rank 0 only; load_checkpoint and load_weights
// read on rank 0 and send the bytes to the others (no shared file system needed), so a run saved
// at N processes resumes at any other number.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tapegrad/data/data_loader.h"
#include "tapegrad/layers/layer.h"

namespace tapegrad::distributed {

// True when this build has MPI (the CMake option TAPEGRAD_MPI).
bool built_with_mpi();

// Starts MPI (once per process) and ends it when destroyed. Without MPI, or when MPI was already
// started by someone else, it only marks the scope.
class Session {
 public:
  Session(int& argc, char**& argv);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

 private:
  int exceptions_at_start_;
  bool owns_mpi_;
};

int rank();           // 0 .. size() - 1; 0 outside a Session
int size();           // the number of processes; 1 outside a Session
bool is_root();       // rank() == 0: the one that prints and writes files
void barrier();       // waits until every rank gets here
// This rank's share of a data loader's batches (LoaderOptions::shard).
data::Shard data_shard();

// Ends every process of the job now, after printing `message` with this rank; for one process
// it throws Error(message) instead.
[[noreturn]] void abort(const std::string& message);

// If any rank passes a non-empty `error`, every rank throws Error with the lowest such rank's
// message, "<error> (on rank 2 of 4)"; otherwise returns on every rank. For checks whose outcome
// the ranks must agree on.
void agree(const std::string& error);

// Element-wise sums over the ranks, in rank order, of same-sized arrays; every rank gets the
// same result (for metrics, counts and losses of the ranks' parts of a batch).
void sum(std::span<double> values);
double sum(double value);

// Rank 0's values of `values` on every rank.
void broadcast(std::span<float> values);
void broadcast(std::string& bytes);

// Every rank must hold a model with the same parameter names and shapes, in the same order; the
// error names the first difference and the rank that has it.
void check_same_parameters(const Layer& model);
// Rank 0's weights and buffers (every parameter, trainable or not) on every rank, after
// check_same_parameters. Call it once after building the model and before training (a resumed
// run loads the same checkpoint on every rank and needs no broadcast).
void broadcast_parameters(Layer& model);

struct AveragingOptions {
  // Gradients travel in buckets of about this many bytes (PyTorch DDP's default): memory stays
  // bounded and each collective is large enough to run at the network's bandwidth.
  int64_t bucket_bytes = 25 << 20;
};

// What a GradientAverager sent and received, per rank, in its last average() call.
struct AveragingTraffic {
  int64_t buckets = 0;
  int64_t bytes_sent = 0;
  int64_t bytes_received = 0;
};

// Averages the gradients of a model's trainable parameters over the ranks, between backward()
// and the optimizer step. Each rank's gradient is weighted by its share of the batch
// (local_samples over the sum of all ranks'), so with each rank's loss a mean over its own rows
// the result is the gradient of the mean over the whole batch, as one process would compute it.
// A parameter that no rank has a gradient for keeps none (the optimizer skips it); one that some
// ranks have none for counts as zero there. Then the buffers that changed since the last call
// (non-trainable parameters such as BatchNormalization's moving statistics, which each rank
// updates from its own rows unless synchronized) get rank 0's values on every rank, as PyTorch
// DDP's broadcast_buffers: every rank keeps the same model.
class GradientAverager {
 public:
  explicit GradientAverager(const Layer& model, AveragingOptions options = {});
  ~GradientAverager();
  GradientAverager(const GradientAverager&) = delete;
  GradientAverager& operator=(const GradientAverager&) = delete;

  void average(int64_t local_samples);
  const AveragingTraffic& last_traffic() const { return traffic_; }

 private:
  std::vector<ParameterPtr> parameters_, buffers_;
  std::vector<uint64_t> buffer_versions_;  // each buffer's Tensor::version() after the last call
  AveragingOptions options_;
  std::vector<float> bucket_, received_;
  AveragingTraffic traffic_;
};

}  // namespace tapegrad::distributed
