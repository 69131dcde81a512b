// Unit tests for d2l/ops/pricing.h: catalogue CSV parsing, the built-in catalogue, user and
// data-root overrides, estimates; `d2l cost compare` and `estimate` as real processes.
#include "d2l/ops/pricing.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "d2l/core/atomic_file.h"
#include "d2l/core/duration.h"
#include "d2l/core/error.h"
#include "support/fixtures.h"

namespace fs = std::filesystem;
using namespace d2l::ops;
using d2l::test::run_d2l;
using d2l::test::TempDir;
using d2l::test::write_bytes;

TEST(Csv, SplitsQuotedFields) {
  const auto f = split_csv_line(R"(a,"b,c","d ""e""",)");
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[1], "b,c");
  EXPECT_EQ(f[2], "d \"e\"");
  EXPECT_EQ(f[3], "");
  EXPECT_THROW(split_csv_line("a,\"b"), d2l::Error);
}

TEST(Catalog, BuiltinHasTheSeedsInstanceTypesWithGpus) {
  const Catalog cat = Catalog::builtin();
  for (const char* t :
       {"ml.t3.medium", "ml.m5.large", "ml.p3.2xlarge", "ml.p4d.24xlarge", "t3.medium", "t3.large",
        "m5.large", "m5.xlarge", "g4dn.xlarge", "p3.2xlarge", "p3.8xlarge", "p4d.24xlarge"}) {
    EXPECT_GT(cat.find(t).price, 0) << t;
  }
  EXPECT_EQ(cat.find("p3.8xlarge").accelerator_count, 4);
  EXPECT_EQ(cat.find("p3.8xlarge").accelerator_name, "V100");
  EXPECT_DOUBLE_EQ(cat.find("p3.8xlarge").gpu_memory_gib, 64);
  EXPECT_EQ(cat.find("t3.medium").accelerator_count, 0);
  EXPECT_FALSE(cat.notes().empty());  // the source and date of the prices
}

TEST(Catalog, EmbeddedCopyEqualsTheShippedFile) {
  const Catalog file = Catalog::load_file(std::string(D2L_SOURCE_DIR) + "/data/catalog/aws.csv");
  const Catalog emb = Catalog::builtin();
  ASSERT_EQ(file.offers().size(), emb.offers().size()) << "run scripts/embed-catalog";
  for (std::size_t i = 0; i < file.offers().size(); ++i) {
    EXPECT_EQ(file.offers()[i].instance_type, emb.offers()[i].instance_type);
    EXPECT_EQ(file.offers()[i].price, emb.offers()[i].price) << "run scripts/embed-catalog";
  }
  EXPECT_EQ(file.notes(), emb.notes());
}

TEST(Catalog, UnknownTypeNamesTheClosest) {
  try {
    Catalog::builtin().find("p3.2xlarg");
    FAIL();
  } catch (const d2l::Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find("p3.2xlarge"), std::string::npos) << e.what();
  }
}

TEST(Catalog, ColumnsByNameAndBadNumbersNamed) {
  const Catalog c = Catalog::parse("# note\nPrice,InstanceType\n1.5,x1\n", "mine.csv");
  EXPECT_DOUBLE_EQ(c.find("x1").price, 1.5);
  try {
    Catalog::parse("InstanceType,Price\nx1,abc\n", "mine.csv");
    FAIL();
  } catch (const d2l::Error& e) {
    EXPECT_NE(std::string(e.what()).find("mine.csv:2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Catalog::parse("InstanceType,vCPUs\nx,1\n", "m"), d2l::Error);  // no Price
  EXPECT_THROW(Catalog::parse("InstanceType,Price\nx,-1\n", "m"), d2l::Error);
  EXPECT_THROW(Catalog::parse("", "m"), d2l::Error);
}

TEST(Catalog, UserFileOverridesAndAdds) {
  TempDir t;
  ::setenv("D2L_CONFIG_DIR", t.path().c_str(), 1);
  ::unsetenv("D2L_DATA_ROOT");
  write_bytes(t.path() / "catalog.csv",
              "InstanceType,Region,Price\np3.2xlarge,us-east-1,2.0\nmy.box,us-east-1,0.25\n");
  const Catalog c = Catalog::load_default();
  EXPECT_DOUBLE_EQ(c.find("p3.2xlarge").price, 2.0);
  EXPECT_DOUBLE_EQ(c.find("my.box").price, 0.25);
  EXPECT_GT(c.find("g4dn.xlarge").price, 0);  // untouched rows stay
  EXPECT_EQ(c.sources().back(), (t.path() / "catalog.csv").string());
  // the same through the program
  std::string out;
  EXPECT_EQ(run_d2l(t.path(), "cost estimate p3.2xlarge 8h --json", &out), 0);
  EXPECT_NE(out.find("\"cost\": 16.0"), std::string::npos) << out;
  ::unsetenv("D2L_CONFIG_DIR");
}

TEST(Catalog, DataRootFileIsUsedBeforeTheBuiltin) {
  TempDir t;
  fs::create_directories(t.path() / "data/catalog");
  write_bytes(t.path() / "data/catalog/aws.csv", "InstanceType,Price\nonly.one,1\n");
  ::setenv("D2L_DATA_ROOT", (t.path() / "data").c_str(), 1);
  ::setenv("D2L_CONFIG_DIR", t.path().c_str(), 1);
  const Catalog c = Catalog::load_default();
  EXPECT_EQ(c.offers().size(), 1u);
  ::unsetenv("D2L_DATA_ROOT");
  ::unsetenv("D2L_CONFIG_DIR");
}

TEST(Estimate, CostIsRateTimesHours) {
  const Catalog c = Catalog::builtin();
  const auto& p3 = c.find("p3.2xlarge");
  const auto& g4 = c.find("g4dn.xlarge");
  EXPECT_DOUBLE_EQ(estimate_cost(p3, 8 * 3600), p3.price * 8);
  // the appendix's exercise: 8 h on a p3.2xlarge against 40 h on a g4dn.xlarge
  EXPECT_NEAR(estimate_cost(g4, d2l::parse_duration("40h")), g4.price * 40, 1e-9);
  InstanceOffer s;
  s.price = 1;
  s.spot_price = 0.25;
  EXPECT_DOUBLE_EQ(estimate_cost(s, 7200, true), 0.5);
  EXPECT_DOUBLE_EQ(estimate_cost(s, 7200, false), 2);
}

TEST(CostCli, CompareNamesTheCheapest) {
  TempDir t;
  std::string out;
  ASSERT_EQ(run_d2l(t.path(), "cost compare p3.2xlarge:8h g4dn.xlarge:40h --json", &out), 0) << out;
  const Catalog c = Catalog::builtin();
  const bool p3_cheaper = c.find("p3.2xlarge").price * 8 < c.find("g4dn.xlarge").price * 40;
  EXPECT_NE(out.find(std::string("\"cheapest\": ") + (p3_cheaper ? "0" : "1")), std::string::npos)
      << out;
  EXPECT_EQ(run_d2l(t.path(), "cost compare p3.2xlarge", &out), 2);
  EXPECT_EQ(run_d2l(t.path(), "cost estimate p3.2xlarge 8x", &out), 2);
}
