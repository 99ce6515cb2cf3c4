#pragma once
// The message of the last error fail() (or throw_error()) threw, on any thread: what a
// distributed Session prints when an exception unwinds through it and it must end the job before
// any catch can print it.
#include <string>

namespace tapegrad {

std::string last_error_message();
// Throws Error(message) as fail() does, without an op prefix (the message already names it).
[[noreturn]] void throw_error(const std::string& message);

}  // namespace tapegrad
