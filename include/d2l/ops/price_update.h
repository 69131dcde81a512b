#pragma once
/// \file d2l/ops/price_update.h
/// `d2l cost update`: the catalogue's prices fetched from AWS for one region (on-demand from the
/// AWS Price List API, spot from EC2's spot price history, EBS volumes per GB-month) into the
/// user's updated catalogue (updated_catalog_path()), written atomically with the region and the
/// time it was fetched for.
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "d2l/cloud/aws.h"
#include "d2l/ops/pricing.h"

namespace d2l::ops {

/// The EC2 instance types `d2l cost update` prices: every size of the GPU families rented in
/// 2026 (g4dn, g5, g6, g6e, p3, p4d, p5, p5e) and the built-in catalogue's EC2 types (its
/// SageMaker `ml.*` rows are not EC2's and keep their built-in prices).
std::vector<std::string> update_instance_types();

/// A GPU family's accelerator as the catalogue names it (`g5` -> `A10G`, 24 GiB a GPU); an empty
/// name for a family without GPUs.
struct FamilyGpu {
  std::string name;       ///< `A10G`, as in fit's GPU table
  double memory_gib = 0;  ///< per GPU
};
FamilyGpu family_gpu(const std::string& instance_type);

/// What update_catalog() did.
struct PriceUpdateResult {
  std::string path;                             ///< the file written
  std::string region;                           ///< the region priced
  std::string fetched_at;                       ///< ISO 8601 UTC
  std::vector<InstanceOffer> offers;            ///< the rows written for the region
  std::vector<std::string> missing;             ///< types the Price List has no offer for
  std::map<std::string, double> volume_prices;  ///< USD per GB-month by EBS volume type
  int with_spot = 0;                            ///< rows that got a spot price
};

/// Fetches the prices of update_instance_types() in `region` (the client's region) and writes
/// them to `path` (atomically; the rows and `# d2l-update` lines of other regions already there
/// are kept, those of `region` replaced). Throws cloud::AwsError or d2l::Error (the Price List
/// has no price at all for the region) before writing anything: the file is then unchanged.
PriceUpdateResult update_catalog(cloud::AwsClient& client, const std::string& region,
                                 std::time_t now, const std::string& path = updated_catalog_path());

}  // namespace d2l::ops
