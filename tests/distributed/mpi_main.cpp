// The main of the GoogleTest programs that CTest runs under mpirun (tests/distributed/mpi_*.cpp):
// MPI lives as long as the tests, and the job fails if a test failed on any rank.
#include <gtest/gtest.h>

#include "tapegrad/distributed/distributed.h"

int main(int argc, char** argv) {
  tapegrad::distributed::Session session(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  const int failed = RUN_ALL_TESTS();
  const double ranks_failed = tapegrad::distributed::sum(failed != 0 ? 1.0 : 0.0);
  return ranks_failed > 0 ? 1 : 0;
}
