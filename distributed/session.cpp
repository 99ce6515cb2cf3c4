// Session: MPI's lifetime, and ending the whole job when a rank leaves with an exception.
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "core/last_error.h"
#include "distributed/world.h"
#include "tapegrad/distributed/distributed.h"

namespace tapegrad::distributed {

namespace {

std::terminate_handler previous_terminate = nullptr;

[[noreturn]] void end_job(const std::string& what) {
  std::fprintf(stderr, "tapegrad::distributed: rank %d of %d: %s; ending the job\n", world::rank(), world::size(),
               what.c_str());
  std::fflush(stderr);
  world::abort_job(1);
}

// An exception that leaves main calls std::terminate without unwinding: say what it was, then
// take the other ranks down with this one (they would wait in their next collective forever).
[[noreturn]] void terminate_job() {
  if (world::size() == 1 && previous_terminate) {  // one process: as without MPI
    previous_terminate();
    std::abort();
  }
  std::string what = "std::terminate was called";
  if (const std::exception_ptr e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      what = std::string("uncaught exception: ") + x.what();
    } catch (...) {
      what = "uncaught exception of a type that is not a std::exception";
    }
  }
  end_job(what);
}

}  // namespace

Session::Session(int& argc, char**& argv)
    : exceptions_at_start_(std::uncaught_exceptions()), owns_mpi_(world::start(argc, argv)) {
  if (owns_mpi_) previous_terminate = std::set_terminate(terminate_job);
}

Session::~Session() {
  if (!owns_mpi_) return;
  // Unwinding through the Session with an exception: its catch would print it after MPI_Finalize,
  // while other ranks may be waiting for this one. The message of a tapegrad::Error is known here.
  if (std::uncaught_exceptions() > exceptions_at_start_ && world::size() > 1) {
    const std::string last = last_error_message();
    end_job("leaving with an exception" + (last.empty() ? std::string() : " (the last tapegrad error: " + last + ")"));
  }
  world::finish();
}

}  // namespace tapegrad::distributed
