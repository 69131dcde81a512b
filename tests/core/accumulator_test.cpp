// d2l/core/accumulator.h: the book's Accumulator.
#include "d2l/core/accumulator.h"

#include <gtest/gtest.h>

#include "d2l/core/error.h"

TEST(Accumulator, AddsResetsAndIndexes) {
  d2l::Accumulator acc(3);
  acc.add({1.0, 2.0, 3.0});
  acc.add({0.5, 0.5, 0.5});
  EXPECT_DOUBLE_EQ(acc[0], 1.5);
  EXPECT_DOUBLE_EQ(acc[2], 3.5);
  EXPECT_THROW(acc.add({1.0}), d2l::Error);
  EXPECT_THROW(acc[3], d2l::Error);
  acc.reset();
  EXPECT_EQ(acc[1], 0.0);
}
