#include "d2l/ops/pricing.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <sstream>

#include "catalog_data.h"
#include "d2l/core/atomic_file.h"
#include "d2l/core/error.h"
#include "d2l/core/paths.h"

namespace d2l::ops {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

double parse_number(const std::string& text, const std::string& where, const std::string& column) {
  const std::string t = trim(text);
  if (t.empty()) return 0;
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size() || !std::isfinite(v))
    throw bad_input(where + ": " + column + " '" + t + "' is not a number");
  if (v < 0) throw bad_input(where + ": " + column + " " + t + " is negative");
  return v;
}

// GPUInfo in SkyPilot's catalogue is a Python dict literal; the total is 'TotalGpuMemoryInMiB': N.
double gpu_memory_from_info(const std::string& info) {
  const std::string key = "TotalGpuMemoryInMiB";
  const auto at = info.find(key);
  if (at == std::string::npos) return 0;
  const auto colon = info.find(':', at);
  if (colon == std::string::npos) return 0;
  return std::strtod(info.c_str() + colon + 1, nullptr) / 1024.0;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// `# d2l-update region=us-east-1 fetched=2026-12-01T09:30:00Z ebs.gp3=0.08`: nullopt for
// another comment; d2l::bad_input for a malformed one.
std::optional<CatalogUpdate> parse_update_note(const std::string& note, const std::string& where) {
  const std::string tag = "d2l-update ";
  if (note.rfind(tag, 0) != 0) return std::nullopt;
  CatalogUpdate u;
  std::istringstream words(note.substr(tag.size()));
  std::string word;
  while (words >> word) {
    const auto eq = word.find('=');
    if (eq == std::string::npos || eq == 0)
      throw bad_input(where + ": d2l-update: '" + word + "' is not KEY=VALUE");
    const std::string key = word.substr(0, eq), value = word.substr(eq + 1);
    if (key == "region")
      u.region = value;
    else if (key == "fetched")
      u.fetched_at = value;
    else if (key.rfind("ebs.", 0) == 0)
      u.volume_prices[key.substr(4)] = parse_number(value, where, key);
  }
  if (u.region.empty() || u.fetched_at.empty())
    throw bad_input(where + ": d2l-update: region= and fetched= are both needed");
  return u;
}

}  // namespace

std::string updated_catalog_path() { return config_dir() + "/catalog-aws.csv"; }

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.push_back(field);
      field.clear();
    } else if (c != '\r') {
      field += c;
    }
  }
  if (quoted) throw bad_input("unterminated quoted field");
  out.push_back(field);
  return out;
}

Catalog Catalog::parse(const std::string& csv, const std::string& origin) {
  Catalog cat;
  cat.sources_.push_back(origin);
  std::istringstream in(csv);
  std::string line;
  std::map<std::string, std::size_t> col;
  bool have_header = false;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    const std::string t = trim(line);
    if (t.empty()) continue;
    const std::string where = origin + ":" + std::to_string(lineno);
    if (t[0] == '#') {
      cat.notes_.push_back(trim(t.substr(1)));
      if (auto u = parse_update_note(cat.notes_.back(), where)) {
        u->origin = origin;
        cat.updates_.push_back(std::move(*u));
      }
      continue;
    }
    std::vector<std::string> fields;
    try {
      fields = split_csv_line(line);
    } catch (const Error& e) {
      throw bad_input(where + ": " + e.what());
    }
    if (!have_header) {
      for (std::size_t i = 0; i < fields.size(); ++i) col[trim(fields[i])] = i;
      for (const char* need : {"InstanceType", "Price"})
        if (!col.count(need))
          throw bad_input(where + ": header has no column '" + std::string(need) + "'");
      have_header = true;
      continue;
    }
    auto get = [&](const char* name) -> std::string {
      const auto it = col.find(name);
      if (it == col.end() || it->second >= fields.size()) return "";
      return trim(fields[it->second]);
    };
    InstanceOffer o;
    o.instance_type = get("InstanceType");
    if (o.instance_type.empty()) throw bad_input(where + ": empty InstanceType");
    o.vcpus = parse_number(get("vCPUs"), where, "vCPUs");
    o.memory_gib = parse_number(get("MemoryGiB"), where, "MemoryGiB");
    o.accelerator_name = get("AcceleratorName");
    o.accelerator_count = parse_number(get("AcceleratorCount"), where, "AcceleratorCount");
    o.gpu_memory_gib = gpu_memory_from_info(get("GPUInfo"));
    if (col.count("GpuMemoryGiB"))
      o.gpu_memory_gib = parse_number(get("GpuMemoryGiB"), where, "GpuMemoryGiB");
    o.region = get("Region");
    o.availability_zone = get("AvailabilityZone");
    const std::string price = get("Price");
    if (price.empty()) throw bad_input(where + ": " + o.instance_type + " has no Price");
    o.price = parse_number(price, where, "Price");
    const std::string spot = get("SpotPrice");
    if (!spot.empty()) o.spot_price = parse_number(spot, where, "SpotPrice");
    o.origin = origin;
    cat.offers_.push_back(std::move(o));
  }
  if (!have_header) throw bad_input(origin + ": no header line (expected InstanceType,...,Price)");
  return cat;
}

Catalog Catalog::load_file(const std::string& path) { return parse(read_file(path), path); }

Catalog Catalog::builtin() { return parse(detail::kEmbeddedCatalog, "built-in"); }

Catalog Catalog::load_default(const std::string& explicit_path) {
  Catalog cat;
  if (!explicit_path.empty()) {
    cat = load_file(explicit_path);
  } else {
    std::vector<std::string> candidates;
    if (const char* root = std::getenv("D2L_DATA_ROOT"); root && *root)
      candidates.push_back(std::string(root) + "/catalog/aws.csv");
    const std::string exe = executable_dir();
    if (!exe.empty()) candidates.push_back(exe + "/../share/d2l/catalog/aws.csv");
    bool found = false;
    for (const auto& c : candidates) {
      if (path_exists(c)) {
        cat = load_file(c);
        found = true;
        break;
      }
    }
    if (!found) cat = builtin();
    // The prices `d2l cost update` fetched; a file that does not parse is left out, said once.
    const std::string updated = updated_catalog_path();
    if (path_exists(updated)) {
      try {
        Catalog fetched = load_file(updated);
        if (fetched.updates_.empty())
          throw bad_input(updated + ": no '# d2l-update' line (not written by `d2l cost update`)");
        cat.merge_override(fetched);
      } catch (const Error& e) {
        cat.warnings_.push_back(std::string("warning: the updated prices are left out (") +
                                e.what() + "); using " + cat.sources_.front() +
                                " (`d2l cost update` fetches them again)");
      }
    }
  }
  const std::string user = config_dir() + "/catalog.csv";
  if (path_exists(user)) cat.merge_override(load_file(user));
  return cat;
}

void Catalog::merge_override(const Catalog& other) {
  for (const auto& o : other.offers_) {
    auto it = std::find_if(offers_.begin(), offers_.end(), [&](const InstanceOffer& x) {
      return x.instance_type == o.instance_type && x.region == o.region;
    });
    if (it != offers_.end())
      *it = o;
    else
      offers_.push_back(o);
  }
  notes_.insert(notes_.end(), other.notes_.begin(), other.notes_.end());
  sources_.insert(sources_.end(), other.sources_.begin(), other.sources_.end());
  updates_.insert(updates_.end(), other.updates_.begin(), other.updates_.end());
  warnings_.insert(warnings_.end(), other.warnings_.begin(), other.warnings_.end());
}

std::optional<double> Catalog::volume_price(const std::string& region,
                                            const std::string& volume_type) const {
  std::optional<double> price;  // the latest file wins
  for (const auto& u : updates_)
    if (u.region == region)
      if (const auto it = u.volume_prices.find(volume_type); it != u.volume_prices.end())
        price = it->second;
  return price;
}

std::string Catalog::describe() const {
  std::string s;
  for (const auto& source : sources_) {
    if (!s.empty()) s += " + ";
    bool fetched = false;
    for (const auto& u : updates_)
      if (u.origin == source) {
        s += std::string(fetched ? ", " : "prices fetched from AWS for ") + u.region + " at " +
             u.fetched_at;
        fetched = true;
      }
    if (fetched)
      s += " (" + source + ")";
    else if (source == "built-in")
      s += "built-in (AWS's 2024 list prices, not live)";
    else
      s += source;
  }
  return s;
}

const InstanceOffer& Catalog::find(const std::string& instance_type,
                                   const std::string& region) const {
  for (const auto& o : offers_)
    if (o.instance_type == instance_type && (region.empty() || o.region == region)) return o;
  std::vector<std::pair<std::size_t, std::string>> near;
  for (const auto& o : offers_)
    near.emplace_back(edit_distance(o.instance_type, instance_type), o.instance_type);
  std::sort(near.begin(), near.end());
  near.erase(std::unique(near.begin(), near.end()), near.end());
  std::string hint;
  for (std::size_t i = 0; i < near.size() && i < 3; ++i) hint += (i ? ", " : "") + near[i].second;
  throw bad_input("instance type '" + instance_type + "'" +
                  (region.empty() ? "" : " in " + region) + " is not in the catalogue" +
                  (hint.empty() ? "" : " (closest: " + hint + ")"));
}

double estimate_cost(const InstanceOffer& offer, double seconds, bool spot) {
  const double rate = (spot && offer.spot_price) ? *offer.spot_price : offer.price;
  return rate * seconds / 3600.0;
}

}  // namespace d2l::ops
