// Unit tests for d2l/ops/pricing.h and budget.h: catalogue CSV parsing and overrides,
// budget arithmetic, corrupt files that must never be overwritten.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "d2l/core/atomic_file.h"
#include "d2l/core/duration.h"
#include "d2l/core/error.h"
#include "d2l/ops/budget.h"
#include "d2l/ops/pricing.h"

namespace fs = std::filesystem;
using namespace d2l::ops;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/d2l-ops-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

void write(const fs::path& p, const std::string& s) { std::ofstream(p) << s; }

std::int64_t utc(int y, int mon, int d, int h = 0) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  return static_cast<std::int64_t>(timegm(&tm));
}

// Runs the real `d2l` with `args`, D2L_CONFIG_DIR set; returns the exit status, output in `out`.
int run_d2l(const std::string& config, const std::string& args, std::string* out = nullptr) {
  const std::string cmd = "D2L_CONFIG_DIR='" + config + "' " + D2L_BIN_DIR + "/d2l " + args +
                          " > '" + config + "/out.txt' 2>&1";
  const int rc = std::system(cmd.c_str());
  if (out) *out = d2l::read_file(config + "/out.txt");
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace

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
  ::setenv("D2L_CONFIG_DIR", t.path.c_str(), 1);
  ::unsetenv("D2L_DATA_ROOT");
  write(t.path / "catalog.csv",
        "InstanceType,Region,Price\np3.2xlarge,us-east-1,2.0\nmy.box,us-east-1,0.25\n");
  const Catalog c = Catalog::load_default();
  EXPECT_DOUBLE_EQ(c.find("p3.2xlarge").price, 2.0);
  EXPECT_DOUBLE_EQ(c.find("my.box").price, 0.25);
  EXPECT_GT(c.find("g4dn.xlarge").price, 0);  // untouched rows stay
  EXPECT_EQ(c.sources().back(), (t.path / "catalog.csv").string());
  // the same through the program
  std::string out;
  EXPECT_EQ(run_d2l(t.path, "cost estimate p3.2xlarge 8h --json", &out), 0);
  EXPECT_NE(out.find("\"cost\": 16.0"), std::string::npos) << out;
  ::unsetenv("D2L_CONFIG_DIR");
}

TEST(Catalog, DataRootFileIsUsedBeforeTheBuiltin) {
  TempDir t;
  fs::create_directories(t.path / "data/catalog");
  write(t.path / "data/catalog/aws.csv", "InstanceType,Price\nonly.one,1\n");
  ::setenv("D2L_DATA_ROOT", (t.path / "data").c_str(), 1);
  ::setenv("D2L_CONFIG_DIR", t.path.c_str(), 1);
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

TEST(Budget, ActualAndLinearForecast) {
  Budget b;
  b.monthly = 1000;
  b.alerts = {50, 80, 90};
  // 2026-04 has 30 days; at the start of day 16 (15 days gone) half the month is gone.
  const std::int64_t now = utc(2026, 4, 16);
  std::vector<UsageEntry> e = {
      {utc(2026, 4, 2), "p3.2xlarge", 10, 3.0, "cli"},       // 30
      {utc(2026, 4, 10), "g4dn.xlarge", 100, 2.0, "cli"},    // 200
      {utc(2026, 3, 31, 23), "p3.2xlarge", 1000, 3, "cli"},  // last month: not counted
      {utc(2026, 4, 20), "p3.2xlarge", 1000, 3, "cli"},      // future: not counted
  };
  BudgetStatus s = check_budget(b, e, now);
  EXPECT_EQ(s.month, "2026-04");
  EXPECT_DOUBLE_EQ(s.actual, 230);
  EXPECT_DOUBLE_EQ(s.month_fraction, 0.5);
  EXPECT_DOUBLE_EQ(s.forecast, 460);
  EXPECT_EQ(s.exit_code, 0);
  ASSERT_EQ(s.thresholds.size(), 3u);
  EXPECT_DOUBLE_EQ(s.thresholds[0].amount, 500);

  e.push_back({utc(2026, 4, 15), "x", 100, 3.0, "cli"});  // +300: 530 actual, 1060 forecast
  s = check_budget(b, e, now);
  EXPECT_TRUE(s.thresholds[0].actual_over);
  EXPECT_FALSE(s.thresholds[1].actual_over);
  EXPECT_TRUE(s.thresholds[2].forecast_over);
  EXPECT_EQ(s.exit_code, 3);

  e.push_back({utc(2026, 4, 15), "x", 1000, 1.0, "cli"});  // 1530: over the budget
  EXPECT_EQ(check_budget(b, e, now).exit_code, 4);
}

TEST(Budget, FirstMinutesOfAMonthDoNotExplode) {
  Budget b;
  b.monthly = 100;
  std::vector<UsageEntry> e = {{utc(2026, 5, 1), "x", 1, 1.0, "cli"}};
  const BudgetStatus s = check_budget(b, e, utc(2026, 5, 1) + 60);
  EXPECT_LE(s.forecast, 31 * 24 + 1);
  EXPECT_GT(s.month_fraction, 0);
}

TEST(Budget, AlertsParseAndValidate) {
  EXPECT_EQ(parse_alerts("90,50,80"), (std::vector<double>{50, 80, 90}));
  for (const char* bad : {"", "50,,80", "abc", "0", "-5", "2000"})
    EXPECT_THROW(parse_alerts(bad), d2l::Error) << bad;
}

TEST(Budget, SaveLoadRoundTripIs0600) {
  TempDir t;
  const std::string p = (t.path / "sub/budget.json").string();
  Budget b;
  b.monthly = 250;
  b.alerts = {90, 50};
  save_budget(p, b);
  const Budget r = load_budget(p);
  EXPECT_DOUBLE_EQ(r.monthly, 250);
  EXPECT_EQ(r.alerts, (std::vector<double>{50, 90}));
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  b.monthly = 0;
  EXPECT_THROW(save_budget(p, b), d2l::Error);
}

TEST(Ledger, AppendsAndSurvivesReload) {
  TempDir t;
  const std::string p = (t.path / "usage.json").string();
  EXPECT_TRUE(load_ledger(p).empty());
  append_ledger(p, {100, "p3.2xlarge", 2, 3.06, "cli"});
  append_ledger(p, {200, "g4dn.xlarge", 4, 0.526, "autostop"});
  const auto e = load_ledger(p);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[1].instance_type, "g4dn.xlarge");
  EXPECT_EQ(e[1].source, "autostop");
  EXPECT_DOUBLE_EQ(e[0].cost(), 6.12);
  EXPECT_THROW(append_ledger(p, {300, "x", 0, 1, "cli"}), d2l::Error);
}

TEST(Ledger, CorruptFileIsNamedAndNeverOverwritten) {
  TempDir t;
  const std::string p = (t.path / "usage.json").string();
  for (const std::string bad :
       {"{\"version\": 1, \"entries\": [", "[1,2]", "{\"entries\": [{\"time\": 1}]}"}) {
    write(p, bad);
    try {
      append_ledger(p, {1, "x", 1, 1, "cli"});
      FAIL() << bad;
    } catch (const d2l::Error& e) {
      EXPECT_EQ(e.exit_code(), 2);
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "one line";
    }
    EXPECT_EQ(d2l::read_file(p), bad);
  }
}

TEST(Budget, CorruptBudgetIsNamed) {
  TempDir t;
  const std::string p = (t.path / "budget.json").string();
  write(p, "{\"monthly\": \"lots\"}");
  try {
    load_budget(p);
    FAIL();
  } catch (const d2l::Error& e) {
    EXPECT_NE(std::string(e.what()).find(p), std::string::npos);
  }
  EXPECT_THROW(load_budget((t.path / "missing.json").string()), d2l::Error);
}

TEST(CostCli, BudgetCheckExitStatusFollowsTheLedger) {
  TempDir t;
  std::string out;
  EXPECT_EQ(run_d2l(t.path, "cost budget check", &out), 2) << out;  // no budget yet
  ASSERT_EQ(run_d2l(t.path, "cost budget set --monthly 100 --alerts 50,80,90", &out), 0) << out;
  EXPECT_EQ(run_d2l(t.path, "cost budget check", &out), 0) << out;
  ASSERT_EQ(run_d2l(t.path, "cost log t3.medium 1", &out), 0) << out;
  // 1 h of p3.2xlarge = 3.06; 100 of them are over the 100 budget whatever the date
  ASSERT_EQ(run_d2l(t.path, "cost log p3.2xlarge 40", &out), 0) << out;
  EXPECT_EQ(run_d2l(t.path, "cost budget check --json", &out), 4) << out;
  EXPECT_NE(out.find("\"exit_code\": 4"), std::string::npos) << out;
  write(t.path / "usage.json", "garbage");
  EXPECT_EQ(run_d2l(t.path, "cost log t3.medium 1", &out), 2);
  EXPECT_NE(out.find("usage.json"), std::string::npos) << out;
  EXPECT_EQ(d2l::read_file((t.path / "usage.json").string()), "garbage");
}

TEST(CostCli, CompareNamesTheCheapest) {
  TempDir t;
  std::string out;
  ASSERT_EQ(run_d2l(t.path, "cost compare p3.2xlarge:8h g4dn.xlarge:40h --json", &out), 0) << out;
  const Catalog c = Catalog::builtin();
  const bool p3_cheaper = c.find("p3.2xlarge").price * 8 < c.find("g4dn.xlarge").price * 40;
  EXPECT_NE(out.find(std::string("\"cheapest\": ") + (p3_cheaper ? "0" : "1")), std::string::npos)
      << out;
  EXPECT_EQ(run_d2l(t.path, "cost compare p3.2xlarge", &out), 2);
  EXPECT_EQ(run_d2l(t.path, "cost estimate p3.2xlarge 8x", &out), 2);
}
