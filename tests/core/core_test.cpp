#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "d2l/core/accumulator.h"
#include "d2l/core/atomic_file.h"
#include "d2l/core/error.h"
#include "d2l/core/progress.h"
#include "d2l/core/timer.h"

namespace fs = std::filesystem;

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

TEST(Error, KindsMapToExitCodes) {
  EXPECT_EQ(d2l::Error("x").exit_code(), 1);
  EXPECT_EQ(d2l::bad_input("x").exit_code(), 2);
}

TEST(AtomicFile, WritesReplacesAndSetsMode) {
  const fs::path dir = fs::temp_directory_path() / ("d2l_atomic_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "a.txt").string();
  d2l::write_file_atomic(path, "one");
  d2l::write_file_atomic(path, std::string("two\0three", 9), 0600);
  EXPECT_EQ(d2l::read_file(path), std::string("two\0three", 9));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // No temporaries left behind.
  int n = 0;
  for (auto& e : fs::directory_iterator(dir)) n += e.is_regular_file();
  EXPECT_EQ(n, 1);
  fs::remove_all(dir);
}

TEST(AtomicFile, UnwritableFolderThrowsAndNamesPath) {
  try {
    d2l::write_file_atomic("/nonexistent-dir/x.json", "{}");
    FAIL() << "expected d2l::Error";
  } catch (const d2l::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.json"), std::string::npos);
  }
}

TEST(AtomicFile, ReadMissingFileIsBadInput) {
  try {
    d2l::read_file("/nonexistent-file");
    FAIL();
  } catch (const d2l::Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
  }
}

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(d2l::format_duration(4.21), "4.2s");
  EXPECT_EQ(d2l::format_duration(185), "3m05s");
  EXPECT_EQ(d2l::format_duration(3720), "1h02m");
}

TEST(Progress, InactiveInPipe) {
  std::FILE* f = std::tmpfile();
  d2l::ProgressBar bar(10, "x", f);
  EXPECT_FALSE(bar.active());
  bar.update(5, "m");
  EXPECT_EQ(std::ftell(f), 0);
  std::fclose(f);
}
