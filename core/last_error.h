#pragma once
// The message of the last error fail() threw on this thread: what a distributed Session prints
// when an exception unwinds through it and it must end the job before any catch can print it.
#include <string>

namespace tapegrad {

const std::string& last_error_message();

}  // namespace tapegrad
