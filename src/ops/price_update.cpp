// `d2l cost update`: prices fetched from AWS into the user's catalogue (see
// d2l/ops/price_update.h).
#include "d2l/ops/price_update.h"

#include <cstdio>
#include <set>
#include <sstream>

#include "d2l/cloud/prices.h"
#include "d2l/core/atomic_file.h"
#include "d2l/core/duration.h"
#include "d2l/core/error.h"
#include "d2l/core/paths.h"

namespace d2l::ops {

namespace {

std::string number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string update_line(const CatalogUpdate& u) {
  std::string s = "# d2l-update region=" + u.region + " fetched=" + u.fetched_at;
  for (const auto& [type, price] : u.volume_prices) s += " ebs." + type + "=" + number(price);
  return s + "\n";
}

std::string csv_row(const InstanceOffer& o) {
  return o.instance_type + "," + number(o.vcpus) + "," + number(o.memory_gib) + "," +
         o.accelerator_name + "," + (o.accelerator_count > 0 ? number(o.accelerator_count) : "") +
         "," + (o.gpu_memory_gib > 0 ? number(o.gpu_memory_gib) : "") + "," + o.region + "," +
         o.availability_zone + "," + number(o.price) + "," +
         (o.spot_price ? number(*o.spot_price) : "") + "\n";
}

}  // namespace

std::vector<std::string> update_instance_types() {
  static const std::vector<std::pair<const char*, std::vector<const char*>>> kFamilies = {
      {"g4dn", {"xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"}},
      {"g5",
       {"xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge"}},
      {"g6",
       {"xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge"}},
      {"g6e",
       {"xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge"}},
      {"p3", {"2xlarge", "8xlarge", "16xlarge"}},
      {"p4d", {"24xlarge"}},
      {"p5", {"48xlarge"}},
      {"p5e", {"48xlarge"}}};
  std::vector<std::string> types;
  std::set<std::string> seen;
  for (const auto& [family, sizes] : kFamilies)
    for (const char* size : sizes) {
      types.push_back(std::string(family) + "." + size);
      seen.insert(types.back());
    }
  const Catalog builtin = Catalog::builtin();
  for (const auto& o : builtin.offers())
    if (o.instance_type.rfind("ml.", 0) != 0 && seen.insert(o.instance_type).second)
      types.push_back(o.instance_type);
  return types;
}

FamilyGpu family_gpu(const std::string& instance_type) {
  static const std::pair<const char*, FamilyGpu> kGpus[] = {
      {"g4dn", {"T4", 16}}, {"g5", {"A10G", 24}},   {"g6", {"L4", 24}},     {"g6e", {"L40S", 48}},
      {"p3", {"V100", 16}}, {"p3dn", {"V100", 32}}, {"p4d", {"A100", 40}},  {"p4de", {"A100", 80}},
      {"p5", {"H100", 80}}, {"p5e", {"H200", 141}}, {"p5en", {"H200", 141}}};
  const std::string family = instance_type.substr(0, instance_type.find('.'));
  for (const auto& [name, gpu] : kGpus)
    if (family == name) return gpu;
  return {};
}

PriceUpdateResult update_catalog(cloud::AwsClient& client, const std::string& region,
                                 std::time_t now, const std::string& path) {
  PriceUpdateResult result;
  result.path = path;
  result.region = region;
  result.fetched_at = format_utc_time(now);
  // Everything is fetched before anything is written: a failure leaves the file as it was.
  std::vector<std::string> priced;
  for (const auto& type : update_instance_types()) {
    const auto offer = cloud::on_demand_price(client, type, region);
    if (!offer) {
      result.missing.push_back(type);
      continue;
    }
    InstanceOffer o;
    o.instance_type = type;
    o.vcpus = offer->vcpus;
    o.memory_gib = offer->memory_gib;
    const FamilyGpu gpu = family_gpu(type);
    if (offer->gpus > 0 && !gpu.name.empty()) {
      o.accelerator_name = gpu.name;
      o.accelerator_count = offer->gpus;
      o.gpu_memory_gib = gpu.memory_gib * offer->gpus;
    }
    o.region = region;
    o.price = offer->price;
    o.origin = path;
    result.offers.push_back(o);
    priced.push_back(type);
  }
  if (result.offers.empty())
    throw Error("cost update: the AWS Price List has no on-demand price for any of " +
                std::to_string(result.missing.size()) + " instance types in " + region +
                " (is it a region where EC2 runs?); the catalogue is unchanged");
  const auto spot = cloud::latest_spot_prices(client, priced, now);
  for (auto& o : result.offers) {
    const auto it = spot.find(o.instance_type);
    if (it == spot.end() || it->second.empty()) continue;
    // The cheapest zone's price now, and that zone.
    o.spot_price = it->second.front().price;
    o.availability_zone = it->second.front().availability_zone;
    ++result.with_spot;
  }
  result.volume_prices = cloud::volume_prices(client, region);

  // Keep what earlier updates fetched for other regions (unless that file is corrupt).
  std::vector<InstanceOffer> kept;
  std::vector<CatalogUpdate> kept_updates;
  if (path_exists(path)) {
    try {
      const Catalog old = Catalog::load_file(path);
      for (const auto& o : old.offers())
        if (o.region != region) kept.push_back(o);
      for (const auto& u : old.updates())
        if (u.region != region) kept_updates.push_back(u);
    } catch (const Error&) {
    }
  }
  CatalogUpdate now_update;
  now_update.region = region;
  now_update.fetched_at = result.fetched_at;
  now_update.volume_prices = result.volume_prices;
  kept_updates.push_back(now_update);
  std::ostringstream out;
  out << "# d2l-cpp instance catalogue written by `d2l cost update`: do not edit (your own prices\n"
         "# go in catalog.csv beside it). Price: on-demand USD per hour, Linux, shared tenancy,\n"
         "# from the AWS Price List API; SpotPrice: the latest Linux/UNIX spot price of the\n"
         "# cheapest zone (AvailabilityZone) at that time, from DescribeSpotPriceHistory; "
         "ebs.TYPE:\n"
         "# EBS volume USD per GB-month.\n";
  for (const auto& u : kept_updates) out << update_line(u);
  out << "InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuMemoryGiB,Region,"
         "AvailabilityZone,Price,SpotPrice\n";
  for (const auto& o : kept) out << csv_row(o);
  for (const auto& o : result.offers) out << csv_row(o);
  const auto slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) ensure_dir(path.substr(0, slash));
  write_file_atomic(path, out.str());
  return result;
}

}  // namespace d2l::ops
