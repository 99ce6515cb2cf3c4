// world.h on MPI_COMM_WORLD.
#include <mpi.h>

#include <cstdlib>
#include <limits>
#include <string>

#include "distributed/world.h"
#include "tapegrad/core/error.h"

namespace tapegrad::distributed::world {

namespace {

void check(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  fail("distributed", std::string(what) + " failed: " + std::string(text, static_cast<size_t>(length)));
}

int as_count(size_t bytes, const char* what) {
  if (bytes > static_cast<size_t>(std::numeric_limits<int>::max()))
    fail("distributed", std::string(what) + " of " + std::to_string(bytes) + " bytes is above MPI's int count limit");
  return static_cast<int>(bytes);
}

}  // namespace

bool built_with_mpi() { return true; }

bool start(int& argc, char**& argv) {
  int started = 0;
  MPI_Initialized(&started);
  if (started) return false;
  int provided = 0;
  // Only the main thread calls MPI; TBB's workers never do.
  check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  if (provided < MPI_THREAD_FUNNELED) {
    MPI_Finalize();
    fail("distributed", "this MPI library cannot serve a threaded process (it provides no MPI_THREAD_FUNNELED)");
  }
  // Errors come back as codes, which check() turns into exceptions, instead of ending the job.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  return true;
}

void finish() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

bool running() {
  int started = 0, finalized = 0;
  MPI_Initialized(&started);
  MPI_Finalized(&finalized);
  return started && !finalized;
}

int rank() {
  if (!running()) return 0;
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

int size() {
  if (!running()) return 1;
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

void barrier() {
  if (running()) check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
}

void abort_job(int code) {
  if (running()) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

void allgather(const void* mine, size_t bytes, void* all) {
  const int count = as_count(bytes, "allgather");
  check(MPI_Allgather(mine, count, MPI_BYTE, all, count, MPI_BYTE, MPI_COMM_WORLD), "MPI_Allgather");
}

void broadcast(void* data, size_t bytes, int root) {
  check(MPI_Bcast(data, as_count(bytes, "broadcast"), MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
}

void alltoall(const float* send, const int* send_counts, const int* send_offsets, float* recv, const int* recv_counts,
              const int* recv_offsets) {
  check(MPI_Alltoallv(send, send_counts, send_offsets, MPI_FLOAT, recv, recv_counts, recv_offsets, MPI_FLOAT, MPI_COMM_WORLD),
        "MPI_Alltoallv");
}

void allgather_in_place(float* data, const int* counts, const int* offsets) {
  check(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, data, counts, offsets, MPI_FLOAT, MPI_COMM_WORLD),
        "MPI_Allgatherv");
}

}  // namespace tapegrad::distributed::world
