// d2l/core/timer.h: the book's Timer.
#include "d2l/core/timer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

TEST(Timer, RecordsStopsAndSums) {
  d2l::Timer t;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const double a = t.stop();
  t.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const double b = t.stop();
  EXPECT_GE(a, 0.019);
  EXPECT_GE(b, 0.009);
  EXPECT_DOUBLE_EQ(t.sum(), a + b);
  EXPECT_DOUBLE_EQ(t.avg(), (a + b) / 2);
  ASSERT_EQ(t.cumsum().size(), 2u);
  EXPECT_DOUBLE_EQ(t.cumsum()[1], a + b);
}

TEST(Timer, EmptyTimerAveragesZero) {
  d2l::Timer t;
  EXPECT_EQ(t.avg(), 0.0);
  EXPECT_TRUE(t.cumsum().empty());
}
