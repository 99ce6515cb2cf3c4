#pragma once
// Error-case assertions: the statement throws tapegrad::Error and the message contains every
// given part (the op, the shapes, what was expected).
//   EXPECT_ERROR(statement, {"conv", "(3, 3, 4, 2)"});
//   EXPECT_TG_ERROR(statement, "conv", shape.str());
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tapegrad/core/error.h"

namespace tapegrad::testing {

template <class F>
void expect_error(F&& f, const std::vector<std::string>& parts, const char* statement, int line) {
  SCOPED_TRACE(std::string("expected an error from ") + statement + " at line " + std::to_string(line));
  try {
    f();
  } catch (const tapegrad::Error& e) {
    const std::string what = e.what();
    for (const std::string& p : parts)
      EXPECT_NE(what.find(p), std::string::npos) << "message \"" << what << "\" does not contain \"" << p << "\"";
    return;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected tapegrad::Error, got another exception: " << e.what();
    return;
  }
  ADD_FAILURE() << "expected tapegrad::Error, nothing was thrown";
}

}  // namespace tapegrad::testing

#define EXPECT_ERROR(statement, ...) \
  ::tapegrad::testing::expect_error([&] { statement; }, std::vector<std::string> __VA_ARGS__, #statement, __LINE__)
#define EXPECT_TG_ERROR(statement, ...) \
  ::tapegrad::testing::expect_error([&] { (void)(statement); }, std::vector<std::string>{__VA_ARGS__}, #statement, __LINE__)
