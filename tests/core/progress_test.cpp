// d2l/core/progress.h: the progress bar draws on a terminal only.
#include "d2l/core/progress.h"

#include <gtest/gtest.h>

#include <cstdio>

TEST(Progress, InactiveInPipe) {
  std::FILE* f = std::tmpfile();
  d2l::ProgressBar bar(10, "x", f);
  EXPECT_FALSE(bar.active());
  bar.update(5, "m");
  EXPECT_EQ(std::ftell(f), 0);
  std::fclose(f);
}
