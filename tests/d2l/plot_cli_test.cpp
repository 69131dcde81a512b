// `d2l plot`: the real program on real files in a temp dir.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "d2l/viz/figure.h"
#include "support/fixtures.h"
#include "support/images.h"

using d2l::test::TempDir;

namespace {

using Result = d2l::test::RunResult;

Result run_d2l(const std::string& args) {
  return d2l::test::run(d2l::test::bin("d2l") + " " + args);
}

std::string run_dir(const TempDir& dir, const std::string& name, double lr) {
  std::filesystem::create_directories(dir / name);
  std::string pts;
  for (int k = 1; k <= 15; ++k) {
    const double x = k / 5.0;
    pts += (pts.empty() ? "" : ",") + std::string("{\"x\":") + std::to_string(x) +
           ",\"loss\":" + std::to_string(lr / x) + ",\"train_acc\":0.6" +
           (k % 5 == 0 ? ",\"test_acc\":0.5" : "") + "}";
  }
  const std::string path = dir / name + "/metrics.json";
  std::ofstream(path) << "{\"model\":\"lenet\",\"epochs\":3,\"points\":[" << pts << "]}";
  return path;
}

}  // namespace

TEST(PlotCli, DrawsOneRunAndComparesSeveral) {
  D2L_NEED_CAIRO();
  TempDir dir;
  const std::string a = run_dir(dir, "fast", 0.9), b = run_dir(dir, "slow", 0.1);
  Result r = run_d2l("plot " + a + " -o " + (dir / "one.png"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(d2l::test::png_header_size(d2l::read_file(dir / "one.png")),
            (std::pair<long, long>{350, 250}));
  r = run_d2l("plot " + a + " " + b + " --scale 2 --json -o " + (dir / "two.svg"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("\"runs\":2"), std::string::npos) << r.output;
  const std::string desc = d2l::test::svg_desc(d2l::read_file(dir / "two.svg"));
  EXPECT_NE(desc.find("fast: train loss"), std::string::npos);
  EXPECT_NE(desc.find("slow: test acc"), std::string::npos);
  r = run_d2l("plot " + a + " " + b + " --label x --label y --metrics test_acc -o " +
              (dir / "three.svg"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(d2l::test::svg_desc(d2l::read_file(dir / "three.svg")).find("y: test acc"),
            std::string::npos);
}

TEST(PlotCli, ExitCodes) {
  TempDir dir;
  const std::string a = run_dir(dir, "r", 0.5);
  EXPECT_EQ(run_d2l("plot " + a + " -o " + (dir / "x.gif")).code, 2);
  EXPECT_EQ(run_d2l("plot " + (dir / "none.json") + " -o " + (dir / "x.png")).code, 2);
  EXPECT_EQ(run_d2l("plot " + a).code, 2);  // no -o
  EXPECT_EQ(run_d2l("plot " + a + " --metrics acc -o " + (dir / "x.png")).code, 2);
  std::ofstream(dir / "junk.json") << "{";
  const Result junk = run_d2l("plot " + (dir / "junk.json") + " -o " + (dir / "x.png"));
  EXPECT_EQ(junk.code, 2);
  EXPECT_NE(junk.output.find("junk.json"), std::string::npos);
  // Cannot write: 1 (or 1 without Cairo too), one line naming the file.
  std::ofstream(dir / "file") << "x";
  const Result unwritable = run_d2l("plot " + a + " -o " + (dir / "file") + "/x.png");
  EXPECT_EQ(unwritable.code, 1);
  EXPECT_NE(unwritable.output.find("x.png"), std::string::npos);
  EXPECT_EQ(run_d2l("plot --help").code, 0);
}
