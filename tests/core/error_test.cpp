// d2l/core/error.h: d2l::Error, its kinds and exit codes.
#include "d2l/core/error.h"

#include <gtest/gtest.h>

#include <string>

TEST(Error, KindsMapToExitCodes) {
  EXPECT_EQ(d2l::Error("x").exit_code(), 1);
  EXPECT_EQ(d2l::bad_input("x").exit_code(), 2);
}

TEST(Error, KeepsTheMessage) {
  const d2l::Error e = d2l::bad_input("flag --x: not a number");
  EXPECT_EQ(std::string(e.what()), "flag --x: not a number");
  EXPECT_EQ(e.kind(), d2l::Error::Kind::BadInput);
}
