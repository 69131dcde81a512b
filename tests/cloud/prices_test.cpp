// d2l/cloud/prices.h, d2l/ops/price_update.h and `d2l cost update`, against the fake endpoint's
// Price List API (GetProducts) and DescribeSpotPriceHistory (tests/cloud/fake_aws/prices.js);
// then `d2l cost` and `d2l cloud list` pricing from the updated catalogue, and the built-in
// catalogue when the update fails or its file is corrupt.
#include "d2l/cloud/prices.h"

#include <gtest/gtest.h>

#include <fstream>

#include "d2l/core/atomic_file.h"
#include "d2l/ops/price_update.h"
#include "fake_aws.h"

using namespace d2l::cloud;
using namespace d2l::test;  // the fake AWS endpoint and its helpers (fake_aws.h)
using nlohmann::json;

namespace {

// A PriceList entry in the Price List API's shape, written here from its reference.
std::string entry(const std::string& os, const std::string& on_demand,
                  const std::string& reserved) {
  const json j = {
      {"product",
       {{"productFamily", "Compute Instance"},
        {"sku", "SKU1"},
        {"attributes",
         {{"instanceType", "g5.xlarge"},
          {"regionCode", "us-east-1"},
          {"operatingSystem", os},
          {"tenancy", "Shared"},
          {"preInstalledSw", "NA"},
          {"capacitystatus", "Used"},
          {"vcpu", "4"},
          {"memory", "16 GiB"},
          {"gpu", "1"}}}}},
      {"terms",
       {{"Reserved",
         {{"SKU1.R",
           {{"priceDimensions",
             {{"SKU1.R.D", {{"unit", "Hrs"}, {"pricePerUnit", {{"USD", reserved}}}}}}}}}}},
        {"OnDemand",
         {{"SKU1.O",
           {{"priceDimensions",
             {{"SKU1.O.D",
               {{"unit", "Hrs"},
                {"beginRange", "0"},
                {"pricePerUnit", {{"USD", on_demand}}}}}}}}}}}}}};
  return j.dump();
}

}  // namespace

TEST(CloudPrices, ReadsTheOnDemandTermOfALinuxOffer) {
  const auto o = parse_on_demand(entry("Linux", "1.0060000000", "0.6000000000"));
  ASSERT_TRUE(o);
  EXPECT_EQ(o->instance_type, "g5.xlarge");
  EXPECT_EQ(o->region, "us-east-1");
  EXPECT_DOUBLE_EQ(o->price, 1.006);  // not the reserved term's
  EXPECT_DOUBLE_EQ(o->vcpus, 4);
  EXPECT_DOUBLE_EQ(o->memory_gib, 16);
  EXPECT_EQ(o->gpus, 1);
  EXPECT_EQ(o->sku, "SKU1");
  EXPECT_FALSE(parse_on_demand(entry("Windows", "1.5", "1")));
  EXPECT_FALSE(parse_on_demand(entry("Linux", "0.0000000000", "1")));
  EXPECT_THROW(parse_on_demand("{not json"), d2l::Error);
}

TEST(CloudPrices, UpdateCoversThe2026GpuFamiliesAndTheBuiltInTypes) {
  const auto types = d2l::ops::update_instance_types();
  for (const char* t :
       {"g4dn.xlarge", "g5.xlarge", "g6.xlarge", "g6e.xlarge", "p3.2xlarge", "p4d.24xlarge",
        "p5.48xlarge", "p5e.48xlarge", "g5.48xlarge", "t3.medium", "m5.xlarge"})
    EXPECT_NE(std::find(types.begin(), types.end(), t), types.end()) << t;
  for (const auto& t : types) EXPECT_NE(t.rfind("ml.", 0), 0u) << t;  // SageMaker's are not EC2's
  EXPECT_EQ(d2l::ops::family_gpu("g6e.12xlarge").name, "L40S");
  EXPECT_EQ(d2l::ops::family_gpu("p5e.48xlarge").memory_gib, 141);
  EXPECT_EQ(d2l::ops::family_gpu("t3.medium").name, "");
}

namespace {

// The fake's catalogue: every type the update asks for in `region`, priced 0.25 + 0.125 * i,
// with decoys the filters or the reader must leave out, and the region's EBS prices.
json products(const std::string& region) {
  json out = json::array();
  const auto types = d2l::ops::update_instance_types();
  for (std::size_t i = 0; i < types.size(); ++i) {
    const bool gpu = !d2l::ops::family_gpu(types[i]).name.empty();
    json attrs = {{"instanceType", types[i]},
                  {"regionCode", region},
                  {"operatingSystem", "Linux"},
                  {"tenancy", "Shared"},
                  {"preInstalledSw", "NA"},
                  {"capacitystatus", "Used"},
                  {"operation", "RunInstances"},
                  {"vcpu", std::to_string(4 * (i + 1))},
                  {"memory", std::to_string(16 * (i + 1)) + " GiB"}};
    if (gpu) attrs["gpu"] = types[i].find("48xlarge") != std::string::npos ? "8" : "1";
    char price[32];
    std::snprintf(price, sizeof price, "%.4f", 0.25 + 0.125 * static_cast<double>(i));
    // Decoys first: licensed software on the same filters, another tenancy, another region.
    json licensed = attrs;
    licensed["operation"] = "RunInstances:0004";
    out.push_back({{"attributes", licensed}, {"price", "99.0000"}});
    json dedicated = attrs;
    dedicated["tenancy"] = "Dedicated";
    out.push_back({{"attributes", dedicated}, {"price", "98.0000"}});
    json elsewhere = attrs;
    elsewhere["regionCode"] = "ap-south-1";
    out.push_back({{"attributes", elsewhere}, {"price", "97.0000"}});
    out.push_back({{"attributes", attrs}, {"price", price}});
  }
  for (const auto& [type, price] :
       {std::pair<const char*, const char*>{"gp3", "0.0880"}, {"gp2", "0.1100"}, {"io2", "0.1380"}})
    out.push_back({{"productFamily", "Storage"},
                   {"attributes", {{"volumeApiName", type}, {"regionCode", region}}},
                   {"price", price},
                   {"unit", "GB-Mo"}});
  return out;
}

double fake_price(const std::string& type) {
  const auto types = d2l::ops::update_instance_types();
  const auto at = std::find(types.begin(), types.end(), type) - types.begin();
  return 0.25 + 0.125 * static_cast<double>(at);
}

class CostUpdateCli : public FakeAwsTest {
 protected:
  void SetUp() override {
    FakeAwsTest::SetUp();
    if (IsSkipped()) return;
    use_fake_for();
    sign_in("");
  }
  void reset(json extra = json::object()) const {
    json state = {{"products", products("eu-west-1")},
                  {"spotPrices",
                   {{"g5.xlarge",
                     {{{"zone", "eu-west-1b"}, {"price", "0.4100"}},
                      {{"zone", "eu-west-1a"}, {"price", "0.3900"}},
                      {{"zone", "eu-west-1a"}, {"price", "0.9999"}}}},  // older: left out
                    {"p5.48xlarge", {{{"zone", "eu-west-1c"}, {"price", "31.5000"}}}}}}};
    state.update(extra);
    set_state(state);
  }
  RunResult d2l(const std::string& args,
                d2l::test::Capture what = d2l::test::Capture::StdoutAndStderr) const {
    return run_d2l(args, "", what, 120);
  }
  std::string catalogue_file() const { return env_->home().str() + "/.config/d2l/catalog-aws.csv"; }
};

}  // namespace

TEST_F(CostUpdateCli, FetchesEveryTypeAndCostAndCloudUseTheUpdatedCatalogue) {
  reset();
  const RunResult r = d2l("cost update --region eu-west-1 --json", d2l::test::Capture::StdoutOnly);
  ASSERT_EQ(r.code, 0) << r.output << fake_->log();
  const json j = json::parse(r.output);
  const auto types = d2l::ops::update_instance_types();
  EXPECT_EQ(j["region"], "eu-west-1");
  EXPECT_EQ(j["instances"].size(), types.size());
  EXPECT_TRUE(j["missing"].empty());
  EXPECT_EQ(j["with_spot"], 2);
  EXPECT_DOUBLE_EQ(j["ebs_usd_per_gb_month"]["gp3"].get<double>(), 0.088);
  // Every GetProducts asked for one type with the documented filters, and was signed for
  // us-east-1 (the fake refuses another scope).
  const json st = fake_->stats();
  EXPECT_EQ(st["rejected"], 0);
  std::size_t asked = 0;
  for (const auto& q : st["requests"]) {
    if (q["action"] != "GetProducts") continue;
    EXPECT_EQ(q["contentType"], "application/x-amz-json-1.1");
    const json body = json::parse(q["body"].get<std::string>());
    EXPECT_EQ(body["ServiceCode"], "AmazonEC2");
    json want = json::array();
    if (body["Filters"][0]["Field"] == "productFamily") {
      want =
          json::array({{{"Type", "TERM_MATCH"}, {"Field", "productFamily"}, {"Value", "Storage"}},
                       {{"Type", "TERM_MATCH"}, {"Field", "regionCode"}, {"Value", "eu-west-1"}}});
    } else {
      ++asked;
      for (const auto& [field, value] :
           on_demand_filters(body["Filters"][0]["Value"].get<std::string>(), "eu-west-1"))
        want.push_back({{"Type", "TERM_MATCH"}, {"Field", field}, {"Value", value}});
    }
    EXPECT_EQ(body["Filters"], want);
  }
  EXPECT_EQ(asked, types.size());
  // Spot prices of every priced type in one DescribeSpotPriceHistory, Linux/UNIX.
  EXPECT_EQ(st["lastSpotQuery"]["ProductDescription.1"], "Linux/UNIX");
  EXPECT_EQ(st["lastSpotQuery"]["InstanceType." + std::to_string(types.size())], types.back());

  // The file: written with its region and time, read back by `d2l cost`.
  const std::string text = d2l::read_file(catalogue_file());
  EXPECT_NE(text.find("# d2l-update region=eu-west-1 fetched="), std::string::npos) << text;
  const RunResult list = d2l("cost list --region eu-west-1 --json", d2l::test::Capture::StdoutOnly);
  ASSERT_EQ(list.code, 0) << list.output;
  const json l = json::parse(list.output);
  ASSERT_EQ(l["catalogue"]["updates"].size(), 1u) << l.dump();
  EXPECT_EQ(l["catalogue"]["updates"][0]["region"], "eu-west-1");
  EXPECT_EQ(l["catalogue"]["updates"][0]["fetched_at"], j["fetched_at"]);
  EXPECT_EQ(l["instances"].size(), types.size());
  bool seen_g5 = false, seen_p5 = false;
  for (const auto& x : l["instances"]) {
    EXPECT_DOUBLE_EQ(x["price"].get<double>(), fake_price(x["instance_type"]))
        << x["instance_type"];
    if (x["instance_type"] == "g5.xlarge") {
      seen_g5 = true;
      EXPECT_EQ(x["accelerator"], "A10G");
      EXPECT_DOUBLE_EQ(x["spot_price"].get<double>(), 0.39);  // the cheapest zone, newest price
    }
    if (x["instance_type"] == "p5.48xlarge") {
      seen_p5 = true;
      EXPECT_EQ(x["accelerator_count"], 8);
      EXPECT_DOUBLE_EQ(x["gpu_memory_gib"].get<double>(), 8 * 80);
    }
  }
  EXPECT_TRUE(seen_g5 && seen_p5);
  const RunResult human = d2l("cost estimate g5.xlarge 2h --region eu-west-1");
  ASSERT_EQ(human.code, 0) << human.output;
  EXPECT_NE(human.output.find("prices fetched from AWS for eu-west-1 at " +
                              j["fetched_at"].get<std::string>()),
            std::string::npos)
      << human.output;
  // The built-in's us-east-1 rows are still there beside them.
  EXPECT_EQ(d2l("cost estimate p3.2xlarge 1h --region us-east-1").code, 0);

  // `d2l cloud list` in eu-west-1: the fetched on-demand price and the region's gp3 price.
  reset({{"instances",
          {{{"id", "i-0aaa"},
            {"type", "g5.xlarge"},
            {"state", "running"},
            {"zone", "eu-west-1a"},
            {"launchTime", d2l::test::aws_time_ago(3600)},
            {"tags", {{"d2l:managed", "1"}}},
            {"volumes", {{{"id", "vol-1"}, {"size", 730}, {"type", "gp3"}}}}}}}});
  const RunResult cl = d2l("cloud list --region eu-west-1 --json", d2l::test::Capture::StdoutOnly);
  ASSERT_EQ(cl.code, 0) << cl.output;
  const json c = json::parse(cl.output);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_NEAR(c[0]["price_per_hour"].get<double>(), fake_price("g5.xlarge") + 0.088, 1e-9);
  EXPECT_NE(c[0]["price_catalogue"].get<std::string>().find("eu-west-1"), std::string::npos);
}

TEST_F(CostUpdateCli, FollowsEveryPageAndRetriesAThrottledOne) {
  // One entry a page: each type's query has two pages (the licensed decoy passes the filters,
  // and comes first); page 2 is throttled once; the spot history comes five items a page.
  json spot = json::object();
  for (const char* t : {"g4dn.xlarge", "g5.xlarge", "g6.xlarge"}) {
    json zones = json::array();
    for (const char* z : {"eu-west-1a", "eu-west-1b", "eu-west-1c"})
      zones.push_back({{"zone", z}, {"price", std::string(t) == "g5.xlarge" ? "0.5" : "0.2"}});
    spot[t] = zones;
  }
  spot["g6.xlarge"][2]["price"] = "0.1";
  reset(
      {{"pricePageSize", 1}, {"throttlePricePage", 2}, {"spotPageSize", 5}, {"spotPrices", spot}});
  const RunResult r = d2l("cost update --region eu-west-1 --json", d2l::test::Capture::StdoutOnly);
  ASSERT_EQ(r.code, 0) << r.output << fake_->log();
  const json j = json::parse(r.output);
  const auto types = d2l::ops::update_instance_types();
  ASSERT_EQ(j["instances"].size(), types.size());
  for (const auto& x : j["instances"])  // the plain Linux offer, though a decoy came first
    EXPECT_DOUBLE_EQ(x["price"].get<double>(), fake_price(x["instance_type"]));
  const json st = fake_->stats();
  // 2 pages a type, 3 for the volumes (gp3, gp2, io2), and the one throttled attempt again.
  EXPECT_EQ(st["attempts"]["GetProducts"], 2 * types.size() + 3 + 1);
  // 9 spot items, 5 a page: two pages; every type and zone seen.
  EXPECT_EQ(st["attempts"]["DescribeSpotPriceHistory"], 2);
  EXPECT_EQ(j["with_spot"], 3);
  for (const auto& x : j["instances"])
    if (x["instance_type"] == "g6.xlarge") EXPECT_DOUBLE_EQ(x["spot_price"].get<double>(), 0.1);
  EXPECT_EQ(j["ebs_usd_per_gb_month"].size(), 3u);
}

TEST_F(CostUpdateCli, ABadRegionIsExit2BeforeAnyRequest) {
  reset();
  for (const char* bad : {"Mars", "us_east_1", "eu-west-"}) {
    const RunResult r = d2l(std::string("cost update --region '") + bad + "'");
    EXPECT_EQ(r.code, 2) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  }
  EXPECT_TRUE(fake_->stats()["attempts"].empty()) << fake_->stats().dump();
  EXPECT_FALSE(d2l::path_exists(catalogue_file()));
}

TEST_F(CostUpdateCli, ARegionWithoutPricesOrADeadEndpointLeavesTheCatalogueAsItWas) {
  reset();
  ASSERT_EQ(d2l("cost update --region eu-west-1").code, 0);
  const std::string before = d2l::read_file(catalogue_file());
  // The Price List knows nothing of this region: exit 1, one line, nothing written.
  RunResult r = d2l("cost update --region ap-east-9");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("has no on-demand price"), std::string::npos) << r.output;
  EXPECT_EQ(d2l::read_file(catalogue_file()), before);
  // The endpoint is gone (a closed port): one line, exit 1, catalogue unchanged.
  fake_.reset();
  env_->set("AWS_MAX_ATTEMPTS", "2");
  r = d2l("cost update --region eu-west-1");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 2) << r.output;  // + "Fetching"
  EXPECT_NE(r.output.find("d2l: aws pricing GetProducts"), std::string::npos) << r.output;
  EXPECT_EQ(d2l::read_file(catalogue_file()), before);
  // The catalogue still answers, from the prices fetched before.
  r = d2l("cost estimate g5.xlarge 1h --region eu-west-1");
  EXPECT_EQ(r.code, 0) << r.output;
}

TEST_F(CostUpdateCli, ACorruptUpdatedCatalogueIsOneWarningThenTheBuiltIn) {
  d2l::ensure_dir(env_->home().str() + "/.config/d2l");
  std::ofstream(catalogue_file()) << "# d2l-update region=us-east-1 fetched=x\nInstanceType,Price\n"
                                     "p3.2xlarge,not-a-price\n";
  const RunResult r = d2l("cost estimate p3.2xlarge 1h");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("$3.0600/h"), std::string::npos) << r.output;  // the built-in price
  EXPECT_NE(r.output.find("d2l: warning: the updated prices are left out ("), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("prices: built-in"), std::string::npos) << r.output;
  const RunResult j = d2l("cost list --json", d2l::test::Capture::StdoutOnly);
  ASSERT_EQ(j.code, 0);
  EXPECT_EQ(json::parse(j.output)["catalogue"]["warnings"].size(), 1u);
  // Without any updated catalogue, offline: the built-in, no warning.
  std::remove(catalogue_file().c_str());
  const RunResult plain = d2l("cost estimate p3.2xlarge 1h");
  EXPECT_EQ(plain.output.find("warning"), std::string::npos) << plain.output;
}
