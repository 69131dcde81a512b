// d2l/core/atomic_file.h: files written whole or not at all, and read back.
#include "d2l/core/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "d2l/core/error.h"
#include "support/fixtures.h"

TEST(AtomicFile, WritesReplacesAndSetsMode) {
  const d2l::test::TempDir dir;
  const std::string path = dir / "a.txt";
  d2l::write_file_atomic(path, "one");
  d2l::write_file_atomic(path, std::string("two\0three", 9), 0600);
  EXPECT_EQ(d2l::read_file(path), std::string("two\0three", 9));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // No temporaries left behind.
  int n = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path())) n += e.is_regular_file();
  EXPECT_EQ(n, 1);
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
