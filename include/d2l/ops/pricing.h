#pragma once
/// \file d2l/ops/pricing.h
/// The instance catalogue of `d2l cost`: instance types with their hardware and hourly prices, in
/// the CSV columns of SkyPilot's catalogue (InstanceType, vCPUs, MemoryGiB, AcceleratorName,
/// AcceleratorCount, GPUInfo, Region, AvailabilityZone, Price, SpotPrice).
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace d2l::ops {

/// One row of the catalogue: an instance type in one region.
struct InstanceOffer {
  std::string instance_type;         ///< e.g. `p3.2xlarge`
  double vcpus = 0;                  ///< virtual CPUs
  double memory_gib = 0;             ///< host memory, GiB
  std::string accelerator_name;      ///< e.g. `V100`; empty for CPU-only types
  double accelerator_count = 0;      ///< GPUs (0 for CPU-only types)
  double gpu_memory_gib = 0;         ///< total GPU memory, GiB (from GPUInfo), 0 when unknown
  std::string region;                ///< e.g. `us-east-1`
  std::string availability_zone;     ///< the zone of the spot price, "" when none
  double price = 0;                  ///< on-demand USD per hour
  std::optional<double> spot_price;  ///< spot USD per hour, when the catalogue has one
  std::string origin;                ///< where this row came from (file name or "built-in")
};

/// What one `d2l cost update` fetched, from its `# d2l-update region=R fetched=TIME
/// ebs.gp3=0.08 ...` line in the updated catalogue.
struct CatalogUpdate {
  std::string region;      ///< the region it was fetched for, `us-east-1`
  std::string fetched_at;  ///< when, ISO 8601 UTC (`2026-12-01T09:30:00Z`)
  /// EBS volume prices of the region, USD per GB-month by volume type (`gp3`).
  std::map<std::string, double> volume_prices;
  std::string origin;  ///< the file it was read from
};

/// The user's updated catalogue that `d2l cost update` writes: `<config_dir()>/catalog-aws.csv`.
std::string updated_catalog_path();

/// A set of offers with where they came from.
class Catalog {
 public:
  /// Parses catalogue CSV text. `origin` names the source in errors (a file name). Lines starting
  /// with `#` are comments (kept in `notes()`); columns are found by their header names, so their
  /// order is free and unknown columns are ignored. Throws d2l::bad_input naming `origin`, the
  /// line and the fault for a missing column, a bad number or a negative price.
  static Catalog parse(const std::string& csv, const std::string& origin);

  /// Reads a catalogue file (see parse()). Throws d2l::bad_input naming the file.
  static Catalog load_file(const std::string& path);

  /// The built-in catalogue (data/catalog/aws.csv compiled into the library).
  static Catalog builtin();

  /// The catalogue `d2l cost` and `d2l cloud` use: `explicit_path` when given, else the first
  /// of `$D2L_DATA_ROOT/catalog/aws.csv`, `<exe>/../share/d2l/catalog/aws.csv`, the built-in
  /// copy, over which the prices `d2l cost update` fetched (updated_catalog_path()) are laid
  /// when that file exists (rows with the same InstanceType and Region replace, new ones are
  /// added; a file that does not parse is left out with a line in warnings()); then the user's
  /// own prices from `<config_dir()>/catalog.csv` when that file exists, laid over the same way.
  static Catalog load_default(const std::string& explicit_path = "");

  /// Replaces rows of this catalogue with `other`'s rows of the same (type, region) and appends
  /// the others.
  void merge_override(const Catalog& other);

  /// The offer for `instance_type` in `region` (or in any region when `region` is empty: the
  /// first). Throws d2l::bad_input naming the type, with close names, when there is none.
  const InstanceOffer& find(const std::string& instance_type, const std::string& region = "") const;

  /// All offers, in file order.
  const std::vector<InstanceOffer>& offers() const { return offers_; }
  /// The comment lines of the sources (source and date of the prices).
  const std::vector<std::string>& notes() const { return notes_; }
  /// The files (or "built-in") this catalogue was read from, base first.
  const std::vector<std::string>& sources() const { return sources_; }
  /// What `d2l cost update` fetched into it (its `# d2l-update` lines), oldest file first.
  const std::vector<CatalogUpdate>& updates() const { return updates_; }
  /// One line for each source that was left out (a corrupt updated catalogue), for the user.
  const std::vector<std::string>& warnings() const { return warnings_; }
  /// The fetched EBS price of `volume_type` in `region`, USD per GB-month; nullopt when no
  /// update of that region has it.
  std::optional<double> volume_price(const std::string& region,
                                     const std::string& volume_type) const;
  /// Which catalogue this is, in one line: `built-in (AWS's 2024 list prices)`, then
  /// `+ prices fetched for us-east-1 at 2026-12-01T09:30:00Z (FILE)` for each update and
  /// `+ FILE` for other files.
  std::string describe() const;

 private:
  std::vector<InstanceOffer> offers_;
  std::vector<std::string> notes_;
  std::vector<std::string> sources_;
  std::vector<CatalogUpdate> updates_;
  std::vector<std::string> warnings_;
};

/// Splits one CSV record (RFC 4180 quoting: `"a,b"`, `""` for a quote) into fields.
/// Throws d2l::bad_input on an unterminated quote.
std::vector<std::string> split_csv_line(const std::string& line);

/// Cost in USD of running `offer` for `seconds` (on-demand, or spot when `spot` and known).
double estimate_cost(const InstanceOffer& offer, double seconds, bool spot = false);

}  // namespace d2l::ops
