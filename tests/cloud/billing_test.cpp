// d2l/cloud/billing.h and `d2l cost budget set|check --aws`, against the fake endpoint: STS for the
// account, AWS Budgets (signed for us-east-1 whatever the region) and Cost Explorer.
#include "d2l/cloud/billing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "fake_aws.h"

using namespace d2l::cloud;
using namespace d2l::test;  // the fake AWS endpoint and its helpers (fake_aws.h)
using nlohmann::json;

TEST(CloudBilling, BudgetChecks) {
  BudgetRequest r;
  r.monthly_usd = 100;
  r.thresholds_pct = {50, 80};
  r.email = "me@example.com";
  EXPECT_NO_THROW(check_budget(r));
  auto bad = [&](auto change) {
    BudgetRequest b = r;
    change(b);
    try {
      check_budget(b);
      return false;
    } catch (const d2l::Error& e) {
      return e.exit_code() == 2;
    }
  };
  EXPECT_TRUE(bad([](BudgetRequest& b) { b.monthly_usd = 0; }));
  EXPECT_TRUE(bad([](BudgetRequest& b) { b.thresholds_pct = {}; }));
  EXPECT_TRUE(bad([](BudgetRequest& b) { b.thresholds_pct = {-5}; }));
  EXPECT_TRUE(bad([](BudgetRequest& b) { b.email = "me"; }));
  EXPECT_TRUE(bad([](BudgetRequest& b) { b.name = "a:b"; }));
}

namespace {
class CloudBudgetCli : public FakeAwsTest {
 protected:
  void SetUp() override {
    FakeAwsTest::SetUp();
    if (IsSkipped()) return;
    use_fake_for();
    sign_in("eu-west-1");  // Budgets and Cost Explorer are still us-east-1's
    set_state({{"spend", 42.5}, {"forecast", 130}});
  }
  RunResult d2l(const std::string& args) const { return run_d2l("cost budget " + args); }
};
}  // namespace

TEST_F(CloudBudgetCli, SetCreatesTheBudgetWithAlertsAndCheckReadsSpend) {
  RunResult r = d2l("set --aws --monthly 100 --email me@example.com --alerts 50,80,90");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("for account 123456789012"), std::string::npos) << r.output;
  json st = fake_->stats();
  ASSERT_TRUE(st["budgets"].contains("d2l-monthly")) << st.dump();
  const json& req = st["budgets"]["d2l-monthly"]["request"];
  EXPECT_EQ(req["AccountId"], "123456789012");
  EXPECT_EQ(req["Budget"]["BudgetLimit"].dump(), R"({"Amount":"100.00","Unit":"USD"})");
  EXPECT_EQ(req["Budget"]["TimeUnit"], "MONTHLY");
  EXPECT_EQ(req["Budget"]["BudgetType"], "COST");
  ASSERT_EQ(req["NotificationsWithSubscribers"].size(), 3u);
  EXPECT_EQ(req["NotificationsWithSubscribers"][2]["Notification"]["Threshold"], 90.0);
  EXPECT_EQ(req["NotificationsWithSubscribers"][2]["Notification"]["ThresholdType"], "PERCENTAGE");
  EXPECT_EQ(req["NotificationsWithSubscribers"][2]["Subscribers"][0]["Address"], "me@example.com");
  // The local budget (budget.json) is another thing: --aws leaves it alone.
  EXPECT_FALSE(d2l::path_exists(env_->home().str() + "/.config/d2l/budget.json"));
  r = d2l("set --aws --monthly 100 --email me@example.com");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("DuplicateRecordException"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("pick another --name"), std::string::npos) << r.output;
  // Spend under the budget, forecast over it: exit 3, as the local `budget check`.
  r = d2l("check --aws");
  ASSERT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("AWS budget d2l-monthly: $100.00 a month"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("spent this month (Cost Explorer): $42.50 (42 %)"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("$130.00  at or over the budget"), std::string::npos) << r.output;
  const RunResult j = run(env_->env_prefix() + " " + bin("d2l") + " cost budget check --aws --json",
                          d2l::test::Capture::StdoutOnly);
  ASSERT_EQ(j.code, 3) << j.output;
  const json js = json::parse(j.output);
  EXPECT_EQ(js["account"], "123456789012");
  EXPECT_DOUBLE_EQ(js["actual"].get<double>(), 42.5);
  EXPECT_DOUBLE_EQ(js["forecast"].get<double>(), 130);
  EXPECT_EQ(js["exit_code"], 3);
  st = fake_->stats();
  const std::string start = st["lastCostQuery"]["TimePeriod"]["Start"];
  EXPECT_EQ(start.size(), 10u);
  EXPECT_EQ(start.substr(8), "01");
  EXPECT_EQ(st["lastCostQuery"]["Metrics"].dump(), R"(["UnblendedCost"])");
  r = d2l("check --aws --name nope");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("NotFoundException"), std::string::npos) << r.output;
}

TEST_F(CloudBudgetCli, BadInputSendsNothing) {
  for (const char* args :
       {"set --aws --monthly 100 --email nope", "set --aws --monthly -3 --email a@b.co",
        "set --aws --monthly 100 --email a@b.co --alerts 50,x",
        "set --aws --monthly 100 --email a@b.co --alerts 0", "set --aws --monthly 100",
        "set --monthly 100 --email a@b.co", "check --name other", "check --aws --region Mars"}) {
    const RunResult r = d2l(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << args << "\n" << r.output;
  }
  EXPECT_TRUE(fake_->stats()["requests"].empty());
}
