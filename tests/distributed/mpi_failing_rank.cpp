// A job in which rank 1 fails while rank 0 waits for it in a collective: the job must end, with
// rank 1's message, instead of hanging (CTest runs it under mpirun with a timeout and looks for
// the message). `uncaught`: the exception leaves main. `caught`: it unwinds through the Session
// into a catch in main, as the examples' mains are written.
#include <cstdio>
#include <cstring>

#include "tapegrad/core/error.h"
#include "tapegrad/distributed/distributed.h"

namespace dist = tapegrad::distributed;

namespace {

void train(int argc) {
  dist::barrier();
  if (dist::rank() == 1) tapegrad::fail("train", "rank 1 cannot go on (a test of failing ranks)");
  dist::barrier();  // rank 0 waits here for a rank that is gone
  std::printf("rank %d: finished, which a failing rank must not let happen\n", dist::rank());
}

}  // namespace

int main(int argc, char** argv) {
  const bool caught = argc > 1 && std::strcmp(argv[1], "caught") == 0;
  if (!caught) {
    dist::Session session(argc, argv);
    train(argc);
    return 0;
  }
  try {
    dist::Session session(argc, argv);
    train(argc);
  } catch (const std::exception& e) {
    std::printf("caught: %s\n", e.what());
    return 1;
  }
  return 0;
}
