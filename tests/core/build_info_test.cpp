// d2l/core/build_info.h: the compiler that built the including file.
#include "d2l/core/build_info.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

TEST(BuildInfo, CompilerNameNamesTheCompilerAndItsVersion) {
  const std::string name = d2l::compiler_name();
#if defined(__clang__)
  EXPECT_EQ(name.rfind("clang ", 0), 0u) << name;
#elif defined(__GNUC__)
  EXPECT_EQ(name.rfind("GCC ", 0), 0u) << name;
  EXPECT_NE(name.find(__VERSION__), std::string::npos) << name;
#endif
  // a version number follows the name
  const auto space = name.find(' ');
  ASSERT_NE(space, std::string::npos) << name;
  ASSERT_LT(space + 1, name.size()) << name;
  EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(name[space + 1]))) << name;
}
