// d2l/cloud/ec2.h: instances through the EC2 Query API, against the fake endpoint.
#include "d2l/cloud/ec2.h"

#include <gtest/gtest.h>

#include "fake_aws.h"

using namespace d2l::cloud;
using namespace d2l::test;  // the fake AWS endpoint and its helpers (fake_aws.h)
using nlohmann::json;

TEST(CloudEc2, StatesAndTimes) {
  for (auto s : {InstanceState::Pending, InstanceState::Running, InstanceState::ShuttingDown,
                 InstanceState::Terminated, InstanceState::Stopping, InstanceState::Stopped})
    EXPECT_EQ(parse_state(state_name(s)), s);
  EXPECT_EQ(parse_state("exploded"), InstanceState::Unknown);
  EXPECT_EQ(parse_aws_time("1970-01-01T01:00:00.000Z"), std::optional<std::time_t>(3600));
  EXPECT_EQ(parse_aws_time("2026-12-01T00:00:00Z"), std::optional<std::time_t>(1796083200));
  EXPECT_EQ(parse_aws_time("yesterday"), std::nullopt);
}

TEST(CloudEc2, CostCountsRunningHoursAtTheCataloguePrice) {
  Instance run;
  run.type = "t3.medium";
  run.state = InstanceState::Running;
  run.launch_time = 1000;
  Instance stopped = run;
  stopped.state = InstanceState::Stopped;
  Instance unknown = run;
  unknown.type = "x9.huge";
  const auto rows = cost_instances(
      {run, stopped, unknown},
      [](const Instance& in) -> std::optional<double> {
        if (in.type == "t3.medium") return 0.5;
        return std::nullopt;
      },
      1000 + 7200);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_DOUBLE_EQ(rows[0].hours, 2);
  EXPECT_DOUBLE_EQ(*rows[0].cost_so_far, 1.0);
  EXPECT_DOUBLE_EQ(rows[1].hours, 0);
  EXPECT_DOUBLE_EQ(*rows[1].cost_so_far, 0);
  EXPECT_FALSE(rows[2].price_per_hour.has_value());
  EXPECT_FALSE(rows[2].cost_so_far.has_value());
}

TEST(CloudEc2, VolumesBillWhileRunningAndWhileStopped) {
  Instance run;
  run.type = "t3.medium";
  run.state = InstanceState::Running;
  run.launch_time = 1000;
  run.volumes = {{"vol-1", 73, "gp3"}};  // 73 GiB × $0.08 / 730 h = $0.008 an hour
  Instance stopped = run;
  stopped.state = InstanceState::Stopped;
  stopped.stopped_since = 1000 + 3600;
  Instance gone = run;
  gone.state = InstanceState::Terminated;
  const auto rows = cost_instances(
      {run, stopped, gone}, [](const Instance&) { return std::optional<double>(0.5); },
      1000 + 7200);
  EXPECT_DOUBLE_EQ(rows[0].storage_per_hour, 0.008);
  EXPECT_DOUBLE_EQ(*rows[0].price_per_hour, 0.508);
  EXPECT_DOUBLE_EQ(*rows[0].cost_so_far, 2 * 0.508);
  EXPECT_DOUBLE_EQ(*rows[1].price_per_hour, 0.008);
  EXPECT_DOUBLE_EQ(rows[1].hours, 1);
  EXPECT_DOUBLE_EQ(*rows[1].cost_so_far, 0.008);
  EXPECT_DOUBLE_EQ(*rows[2].price_per_hour, 0);
  EXPECT_EQ(volume_price_per_gb_month("gp2"), std::optional<double>(0.10));
  EXPECT_EQ(volume_price_per_gb_month("floppy"), std::nullopt);
}

TEST(CloudEc2, FindByIdOrName) {
  Instance a, b, c;
  a.id = "i-a";
  a.name = "train";
  b.id = "i-b";
  b.name = "twin";
  c.id = "i-c";
  c.name = "twin";
  const std::vector<Instance> all = {a, b, c};
  EXPECT_EQ(find_instance(all, "i-b").id, "i-b");
  EXPECT_EQ(find_instance(all, "train").id, "i-a");
  try {
    find_instance(all, "twin");
    FAIL();
  } catch (const d2l::Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find("i-b, i-c"), std::string::npos);
  }
  EXPECT_THROW(find_instance(all, "nope"), d2l::Error);
}

class CloudEc2Fake : public FakeAwsTest {
 protected:
  void SetUp() override {
    FakeAwsTest::SetUp();
    if (IsSkipped()) return;
    use_fake_for({"AWS_ENDPOINT_URL_EC2"});
    set_state({{"pageSize", 2},
               {"instances",
                {{{"id", "i-0aaa"},
                  {"type", "t3.medium"},
                  {"state", "running"},
                  {"launchTime", aws_time_ago(7200)},
                  {"publicIp", "198.51.100.7"},
                  {"spot", true},
                  {"tags", {{"d2l:managed", "1"}, {"Name", "train1"}}}},
                 {{"id", "i-0bbb"},
                  {"type", "m5.xlarge"},
                  {"state", "stopped"},
                  {"launchTime", aws_time_ago(86400)},
                  {"reason", "User initiated (2026-11-30 10:00:00 GMT)"},
                  {"keyName", "d2l-us-east-1"},
                  {"volumes",
                   {{{"id", "vol-0b1"}, {"size", 100}, {"type", "gp3"}},
                    {{"id", "vol-0b2"}, {"size", 500}, {"type", "st1"}}}},
                  {"tags", {{"d2l:managed", "1"}}}},
                 {{"id", "i-0ccc"},
                  {"type", "m5.large"},
                  {"state", "running"},
                  {"launchTime", aws_time_ago(60)},
                  {"tags", {{"Name", "someone-elses"}}}},
                 {{"id", "i-0ddd"},
                  {"type", "m5.large"},
                  {"state", "terminated"},
                  {"launchTime", aws_time_ago(60)},
                  {"tags", {{"d2l:managed", "1"}}}}}}});
    d2l::cloud::Credentials c;
    c.access_key_id = kKeyId;
    c.secret_access_key = kSecret;
    client_ = std::make_unique<AwsClient>(c, "us-east-1");
  }
  std::unique_ptr<AwsClient> client_;
};

TEST_F(CloudEc2Fake, DescribeOursOrAllAcrossPages) {
  const auto ours = describe_instances(*client_, false);
  ASSERT_EQ(ours.size(), 2u);
  EXPECT_EQ(ours[0].id, "i-0aaa");
  EXPECT_EQ(ours[0].name, "train1");
  EXPECT_EQ(ours[0].type, "t3.medium");
  EXPECT_EQ(ours[0].state, InstanceState::Running);
  EXPECT_EQ(ours[0].public_ip, "198.51.100.7");
  EXPECT_EQ(ours[0].availability_zone, "us-east-1a");
  EXPECT_TRUE(ours[0].spot);
  EXPECT_TRUE(ours[0].managed());
  ASSERT_TRUE(ours[0].launch_time.has_value());
  EXPECT_NEAR(static_cast<double>(std::time(nullptr) - *ours[0].launch_time), 7200, 120);
  EXPECT_EQ(ours[1].state, InstanceState::Stopped);
  EXPECT_EQ(ours[1].key_name, "d2l-us-east-1");
  EXPECT_EQ(ours[1].stopped_since, parse_aws_time("2026-11-30T10:00:00Z"));
  EXPECT_FALSE(ours[0].stopped_since.has_value());
  auto with_volumes = ours;
  attach_volumes(*client_, with_volumes);
  EXPECT_TRUE(with_volumes[0].volumes.empty());
  ASSERT_EQ(with_volumes[1].volumes.size(), 2u);
  EXPECT_EQ(with_volumes[1].volumes[1].id, "vol-0b2");
  EXPECT_EQ(with_volumes[1].volumes[1].size_gb, 500);
  EXPECT_EQ(with_volumes[1].volumes[1].type, "st1");
  const auto all = describe_instances(*client_, true);
  ASSERT_EQ(all.size(), 4u);  // two pages of two
  EXPECT_FALSE(all[2].managed());
  EXPECT_EQ(fake_->stats()["attempts"]["DescribeInstances"].get<int>(), 3);
  EXPECT_EQ(fake_->stats()["attempts"]["DescribeVolumes"].get<int>(), 1);
}

TEST_F(CloudEc2Fake, StopStartTerminateChangeState) {
  auto c = change_instances(*client_, InstanceAction::Stop, {"i-0aaa"});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].id, "i-0aaa");
  EXPECT_EQ(c[0].previous, InstanceState::Running);
  EXPECT_EQ(c[0].current, InstanceState::Stopping);
  EXPECT_EQ(describe_instances(*client_, false)[0].state, InstanceState::Stopped);
  c = change_instances(*client_, InstanceAction::Start, {"i-0aaa", "i-0bbb"});
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[1].previous, InstanceState::Stopped);
  EXPECT_EQ(c[1].current, InstanceState::Pending);
  c = change_instances(*client_, InstanceAction::Terminate, {"i-0bbb"});
  EXPECT_EQ(c[0].current, InstanceState::ShuttingDown);
  try {
    change_instances(*client_, InstanceAction::Start, {"i-0bbb"});
    FAIL();
  } catch (const AwsError& e) {
    EXPECT_EQ(e.code(), "IncorrectInstanceState");
  }
  try {
    change_instances(*client_, InstanceAction::Stop, {"i-0nope"});
    FAIL();
  } catch (const AwsError& e) {
    EXPECT_EQ(e.code(), "InvalidInstanceID.NotFound");
    EXPECT_NE(std::string(e.what()).find("d2l cloud list --all"), std::string::npos);
  }
}
