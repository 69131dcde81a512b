// Prices from the AWS Price List API and EC2's spot price history (see d2l/cloud/prices.h).
#include "d2l/cloud/prices.h"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "d2l/cloud/ec2.h"
#include "d2l/core/duration.h"

namespace d2l::cloud {

namespace {
using nlohmann::json;

// Pages at most, so that a service handing back the same token cannot loop for ever.
constexpr int kMaxPages = 200;

// The leading number of `16 GiB`, `1,152 GiB`, `4`; 0 when there is none.
double leading_number(std::string text) {
  text.erase(std::remove(text.begin(), text.end(), ','), text.end());
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  return end == text.c_str() ? 0 : v;
}

std::string attribute(const json& attributes, const char* name) {
  const auto it = attributes.find(name);
  return it != attributes.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The USD price of the first price dimension billed in `unit` among `terms` (an `OnDemand`
// object: term -> {priceDimensions: {dim -> {unit, pricePerUnit: {USD}}}}); nullopt if none.
std::optional<double> price_in(const json& terms, const std::string& unit) {
  if (!terms.is_object()) return std::nullopt;
  for (const auto& term : terms) {
    const json dims = term.value("priceDimensions", json::object());
    if (!dims.is_object()) continue;
    for (const auto& d : dims) {
      if (!d.is_object() || d.value("unit", "") != unit) continue;
      const std::string begin = d.value("beginRange", "0");
      if (begin != "0") continue;  // a higher tier
      const json per = d.value("pricePerUnit", json::object());
      if (!per.is_object() || !per.contains("USD") || !per["USD"].is_string()) continue;
      char* end = nullptr;
      const std::string text = per["USD"].get<std::string>();
      const double v = std::strtod(text.c_str(), &end);
      if (!text.empty() && *end == '\0') return v;
    }
  }
  return std::nullopt;
}

json parse_entry(const std::string& entry) {
  try {
    return json::parse(entry);
  } catch (const std::exception&) {
    throw Error("aws pricing GetProducts: a PriceList entry is not JSON");
  }
}
}  // namespace

std::vector<std::string> get_products(AwsClient& client, const std::string& service_code,
                                      const std::vector<PriceFilter>& filters) {
  json request = {{"ServiceCode", service_code},
                  {"FormatVersion", "aws_v1"},
                  {"MaxResults", 100},
                  {"Filters", json::array()}};
  for (const auto& [field, value] : filters)
    request["Filters"].push_back({{"Type", "TERM_MATCH"}, {"Field", field}, {"Value", value}});
  std::vector<std::string> out;
  for (int page = 0; page < kMaxPages; ++page) {
    const std::string body =
        client.json(Service::Pricing, "AWSPriceListService.GetProducts", request.dump());
    json reply;
    try {
      reply = json::parse(body);
    } catch (const std::exception&) {
      throw Error("aws pricing GetProducts: the reply is not JSON");
    }
    for (const auto& entry : reply.value("PriceList", json::array())) {
      // Each entry is a JSON document inside a JSON string (an object in some SDKs' output).
      if (entry.is_string())
        out.push_back(entry.get<std::string>());
      else if (entry.is_object())
        out.push_back(entry.dump());
    }
    const std::string next = reply.value("NextToken", "");
    if (next.empty()) return out;
    request["NextToken"] = next;
  }
  throw Error("aws pricing GetProducts: more than " + std::to_string(kMaxPages) +
              " pages of prices; giving up");
}

std::vector<PriceFilter> on_demand_filters(const std::string& instance_type,
                                           const std::string& region) {
  return {{"instanceType", instance_type}, {"regionCode", region},   {"operatingSystem", "Linux"},
          {"tenancy", "Shared"},           {"preInstalledSw", "NA"}, {"capacitystatus", "Used"}};
}

std::optional<OnDemandOffer> parse_on_demand(const std::string& entry) {
  const json j = parse_entry(entry);
  const json product = j.value("product", json::object());
  const json attrs = product.value("attributes", json::object());
  if (!attrs.is_object()) return std::nullopt;
  if (attribute(attrs, "operatingSystem") != "Linux" || attribute(attrs, "tenancy") != "Shared" ||
      attribute(attrs, "preInstalledSw") != "NA" || attribute(attrs, "capacitystatus") != "Used")
    return std::nullopt;
  const json terms = j.value("terms", json::object());
  const auto price = price_in(terms.value("OnDemand", json::object()), "Hrs");
  if (!price || !(*price > 0)) return std::nullopt;
  OnDemandOffer o;
  o.instance_type = attribute(attrs, "instanceType");
  if (o.instance_type.empty()) return std::nullopt;
  o.region = attribute(attrs, "regionCode");
  o.price = *price;
  o.vcpus = leading_number(attribute(attrs, "vcpu"));
  o.memory_gib = leading_number(attribute(attrs, "memory"));
  o.gpus = static_cast<int>(leading_number(attribute(attrs, "gpu")));
  o.sku = product.value("sku", "");
  return o;
}

std::optional<OnDemandOffer> on_demand_price(AwsClient& client, const std::string& instance_type,
                                             const std::string& region) {
  std::optional<OnDemandOffer> best;
  bool best_plain = false;
  for (const auto& entry :
       get_products(client, "AmazonEC2", on_demand_filters(instance_type, region))) {
    auto o = parse_on_demand(entry);
    if (!o || o->instance_type != instance_type) continue;
    const json attrs = parse_entry(entry)["product"]["attributes"];
    // `RunInstances` is plain Linux; `RunInstances:0004` and the like carry licensed software.
    const bool plain =
        !attrs.contains("operation") || attribute(attrs, "operation") == "RunInstances";
    if (!best || (plain && !best_plain)) {
      best = o;
      best_plain = plain;
    }
  }
  return best;
}

std::map<std::string, double> volume_prices(AwsClient& client, const std::string& region) {
  std::map<std::string, double> out;
  for (const auto& entry :
       get_products(client, "AmazonEC2", {{"productFamily", "Storage"}, {"regionCode", region}})) {
    const json j = parse_entry(entry);
    const json attrs = j.value("product", json::object()).value("attributes", json::object());
    if (!attrs.is_object()) continue;
    const std::string type = attribute(attrs, "volumeApiName");
    if (type.empty() || out.count(type)) continue;
    const auto price =
        price_in(j.value("terms", json::object()).value("OnDemand", json::object()), "GB-Mo");
    if (price && *price > 0) out[type] = *price;
  }
  return out;
}

std::map<std::string, std::vector<SpotPrice>> latest_spot_prices(
    AwsClient& client, const std::vector<std::string>& instance_types, std::time_t now) {
  std::map<std::string, std::vector<SpotPrice>> out;
  if (instance_types.empty()) return out;
  std::vector<std::pair<std::string, std::string>> params;
  for (std::size_t i = 0; i < instance_types.size(); ++i)
    params.emplace_back("InstanceType." + std::to_string(i + 1), instance_types[i]);
  params.emplace_back("ProductDescription.1", "Linux/UNIX");
  params.emplace_back("StartTime", format_utc_time(now));
  params.emplace_back("MaxResults", "1000");
  // The newest price per (type, zone): the history may come in any order across pages.
  std::map<std::pair<std::string, std::string>, std::pair<std::time_t, double>> newest;
  for (int page = 0;; ++page) {
    if (page >= kMaxPages)
      throw Error("aws ec2 DescribeSpotPriceHistory: more than " + std::to_string(kMaxPages) +
                  " pages; giving up");
    const XmlNode r = client.query(Service::Ec2, "DescribeSpotPriceHistory", params);
    if (const XmlNode* set = r.child("spotPriceHistorySet"))
      for (const XmlNode* item : set->all("item")) {
        const std::string type = item->child_text("instanceType");
        const std::string zone = item->child_text("availabilityZone");
        const std::string text = item->child_text("spotPrice");
        char* end = nullptr;
        const double price = std::strtod(text.c_str(), &end);
        if (type.empty() || text.empty() || *end != '\0') continue;
        const std::time_t when = parse_aws_time(item->child_text("timestamp")).value_or(0);
        const auto key = std::make_pair(type, zone);
        const auto it = newest.find(key);
        if (it == newest.end() || when > it->second.first) newest[key] = {when, price};
      }
    const std::string next = r.child_text("nextToken");
    if (next.empty()) break;
    if (params.back().first == "NextToken")
      params.back().second = next;
    else
      params.emplace_back("NextToken", next);
  }
  for (const auto& [key, value] : newest) out[key.first].push_back({key.second, value.second});
  for (auto& [type, prices] : out)
    std::sort(prices.begin(), prices.end(), [](const SpotPrice& a, const SpotPrice& b) {
      return a.price < b.price || (a.price == b.price && a.availability_zone < b.availability_zone);
    });
  return out;
}

std::vector<SpotPrice> spot_prices(AwsClient& client, const std::string& instance_type,
                                   std::time_t now) {
  auto all = latest_spot_prices(client, {instance_type}, now);
  return all[instance_type];
}

}  // namespace d2l::cloud
