#pragma once
// The few MPI collectives tapegrad::distributed is built on, behind an interface free of MPI's
// headers. world_mpi.cpp implements it on MPI_COMM_WORLD; world_single.cpp, for a build without
// MPI, is one process of rank 0. Only the thread that started MPI calls these (MPI_THREAD_FUNNELED).
#include <cstddef>
#include <string>

namespace tapegrad::distributed::world {

bool built_with_mpi();
// Starts MPI if nobody has; returns whether this call started it (and so must finalize it).
bool start(int& argc, char**& argv);
void finish();
bool running();
int rank();
int size();
void barrier();
[[noreturn]] void abort_job(int code);

// Every rank's `bytes` bytes at `mine`, in rank order, into `all` (size() * bytes).
void allgather(const void* mine, size_t bytes, void* all);
// `bytes` bytes at `data` from rank `root` to every rank.
void broadcast(void* data, size_t bytes, int root);
// Rank r sends send[send_offsets[s] .. + send_counts[s]) to each rank s and receives what each
// rank s sends it into recv[recv_offsets[s] ..]; counts in floats.
void alltoall(const float* send, const int* send_counts, const int* send_offsets, float* recv, const int* recv_counts,
              const int* recv_offsets);
// Each rank's data[offsets[rank] .. + counts[rank]) to every rank, in place.
void allgather_in_place(float* data, const int* counts, const int* offsets);

}  // namespace tapegrad::distributed::world
