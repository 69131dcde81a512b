// Unit tests for d2l/core/paths.h: the configuration and cache folders from the environment,
// folder creation, and the running executable's folder.
#include "d2l/core/paths.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "d2l/core/atomic_file.h"
#include "d2l/core/error.h"
#include "support/fixtures.h"

using d2l::test::TempDir;

namespace {

/// Sets (or, with nullopt, unsets) environment variables for one test and restores them after.
class ScopedEnv {
 public:
  ScopedEnv& set(const std::string& name, std::optional<std::string> value) {
    const char* old = std::getenv(name.c_str());
    saved_.push_back({name, old ? std::optional<std::string>(old) : std::nullopt});
    if (value)
      ::setenv(name.c_str(), value->c_str(), 1);
    else
      ::unsetenv(name.c_str());
    return *this;
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second)
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      else
        ::unsetenv(it->first.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

}  // namespace

TEST(ConfigDir, OrderOfTheEnvironment) {
  ScopedEnv env;
  env.set("D2L_CONFIG_DIR", "/x/d2l-config").set("XDG_CONFIG_HOME", "/x/xdg").set("HOME", "/x/h");
  EXPECT_EQ(d2l::config_dir(), "/x/d2l-config");
  env.set("D2L_CONFIG_DIR", "");
  EXPECT_EQ(d2l::config_dir(), "/x/xdg/d2l") << "an empty variable counts as unset";
  env.set("XDG_CONFIG_HOME", std::nullopt);
  EXPECT_EQ(d2l::config_dir(), "/x/h/.config/d2l");
  env.set("HOME", std::nullopt);
  EXPECT_THROW(d2l::config_dir(), d2l::Error);
}

TEST(CacheDir, XdgThenHomeThenTmp) {
  ScopedEnv env;
  env.set("XDG_CACHE_HOME", "/x/cache").set("HOME", "/x/h");
  EXPECT_EQ(d2l::cache_dir(), "/x/cache/d2l");
  env.set("XDG_CACHE_HOME", std::nullopt);
  EXPECT_EQ(d2l::cache_dir(), "/x/h/.cache/d2l");
  env.set("HOME", std::nullopt);
  EXPECT_EQ(d2l::cache_dir(), "/tmp/.cache/d2l");
}

TEST(EnsureDir, CreatesParentsWithModeAndRefusesAFile) {
  TempDir t;
  const std::string deep = t / "a/b/c";
  d2l::ensure_dir(deep, 0700);
  struct stat st {};
  ASSERT_EQ(::stat(deep.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  d2l::ensure_dir(deep);  // already there: nothing to do, its mode is kept
  ASSERT_EQ(::stat(deep.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  d2l::write_file_atomic(t / "file", "x");
  try {
    d2l::ensure_dir(t / "file/sub");
    ADD_FAILURE() << "no error";
  } catch (const d2l::Error& e) {
    EXPECT_NE(std::string(e.what()).find(t / "file"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(d2l::path_exists(t / "file"));
  EXPECT_FALSE(d2l::path_exists(t / "nothing"));
}

TEST(ExecutableDir, IsTheTestBinarysFolder) {
  EXPECT_EQ(d2l::executable_dir(), std::string(D2L_BIN_DIR));
}
