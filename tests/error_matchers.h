#pragma once
// EXPECT_ERROR(statement, {"substring", ...}): the statement throws tapegrad::Error and the
// message contains every substring (the op, the shapes, what was expected).
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "core/error.h"

#define EXPECT_ERROR(statement, ...)                                                              \
  do {                                                                                           \
    bool thrown_ = false;                                                                        \
    try {                                                                                        \
      statement;                                                                                 \
    } catch (const tapegrad::Error& e_) {                                                        \
      thrown_ = true;                                                                            \
      const std::string what_ = e_.what();                                                       \
      for (const char* part_ : std::initializer_list<const char*> __VA_ARGS__)                   \
        EXPECT_NE(what_.find(part_), std::string::npos) << "message: " << what_ << "\nmissing: " << part_; \
    }                                                                                            \
    EXPECT_TRUE(thrown_) << #statement " did not throw tapegrad::Error";                          \
  } while (0)
