#pragma once
/// \file d2l/cloud/prices.h
/// Prices as AWS publishes them: on-demand prices and EBS volume prices from the AWS Price List
/// API (service `pricing`, `AWSPriceListService.GetProducts`, every page), and the latest spot
/// prices per instance type and zone from EC2's `DescribeSpotPriceHistory` (every page).
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "d2l/cloud/aws.h"

namespace d2l::cloud {

/// One `TERM_MATCH` filter of GetProducts: `Field` = `Value`.
using PriceFilter = std::pair<std::string, std::string>;

/// GetProducts of `service_code` (`AmazonEC2`) with TERM_MATCH `filters`, every page
/// (NextToken, 100 a page): the PriceList entries, each a JSON document as a string. Throws
/// AwsError.
std::vector<std::string> get_products(AwsClient& client, const std::string& service_code,
                                      const std::vector<PriceFilter>& filters);

/// An EC2 instance type's on-demand offer (Linux, shared tenancy, no pre-installed software).
struct OnDemandOffer {
  std::string instance_type;  ///< `g5.xlarge`
  std::string region;         ///< its `regionCode`
  double price = 0;           ///< USD per hour
  double vcpus = 0;           ///< from the product's `vcpu`, 0 when absent
  double memory_gib = 0;      ///< from its `memory` (`16 GiB`), 0 when absent
  int gpus = 0;               ///< from its `gpu`, 0 when absent
  std::string sku;            ///< the product's SKU
};

/// Reads one PriceList entry. nullopt unless it is an on-demand Linux/Shared/NA/Used compute
/// offer with an hourly USD price above 0. Throws d2l::Error when `entry` is not JSON.
std::optional<OnDemandOffer> parse_on_demand(const std::string& entry);

/// The filters on_demand_price() sends: instanceType, regionCode, operatingSystem Linux,
/// tenancy Shared, preInstalledSw NA, capacitystatus Used.
std::vector<PriceFilter> on_demand_filters(const std::string& instance_type,
                                           const std::string& region);

/// The on-demand offer of `instance_type` in `region` (nullopt when the Price List has none).
/// Where several products match, the one whose `operation` is `RunInstances` (plain Linux).
std::optional<OnDemandOffer> on_demand_price(AwsClient& client, const std::string& instance_type,
                                             const std::string& region);

/// EBS volume prices in `region`, USD per GB-month by volume type (`gp3`, `gp2`, `io1`, ...):
/// the Price List's `Storage` products (GetProducts with productFamily Storage and regionCode).
std::map<std::string, double> volume_prices(AwsClient& client, const std::string& region);

/// The latest spot price of a type in one availability zone.
struct SpotPrice {
  std::string availability_zone;  ///< `us-east-1a`
  double price = 0;               ///< USD per hour
};

/// The spot prices (Linux/UNIX) in effect at `now` of each of `instance_types` in each zone of
/// the client's region: DescribeSpotPriceHistory with StartTime `now`, every page; the newest
/// price per type and zone, each type's zones cheapest first. Types without spot offers are
/// absent. Throws AwsError.
std::map<std::string, std::vector<SpotPrice>> latest_spot_prices(
    AwsClient& client, const std::vector<std::string>& instance_types, std::time_t now);

/// The current spot prices of one `instance_type` (see latest_spot_prices()), cheapest first.
std::vector<SpotPrice> spot_prices(AwsClient& client, const std::string& instance_type,
                                   std::time_t now);

}  // namespace d2l::cloud
