// `d2l cost`: the instance catalogue, estimates, comparisons, budgets and the usage ledger.
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "../common/command.h"
#include "cloud_common.h"
#include "d2l/cloud/billing.h"
#include "d2l/core/duration.h"
#include "d2l/core/error.h"
#include "d2l/core/paths.h"
#include "d2l/ops/budget.h"
#include "d2l/ops/price_update.h"
#include "d2l/ops/pricing.h"
#include "flag_checks.h"

namespace {

using nlohmann::json;
using namespace d2l::ops;
using d2l::config_dir;
using d2l::format_duration;
using d2l::parse_duration;

struct Opts {
  bool json = false;
  std::string catalog;
  std::string region;
  bool spot = false;
  // list
  bool gpu = false;
  std::optional<double> max_price;  // not given: every price
  // estimate
  std::string instance;
  std::string duration;
  // compare
  std::vector<std::string> pairs;
  // budget set
  double monthly = 0;
  std::string alerts = "50,80,90";
  // log
  double hours = 0;
  std::string source = "cli";
  // AWS: budget --aws, update
  bool aws = false;
  std::string profile;
  std::string email;
  std::string budget_name = "d2l-monthly";
};

std::string budget_path() { return config_dir() + "/budget.json"; }
std::string ledger_path() { return default_ledger_path(); }

std::string money(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, v < 10 ? "$%.4f" : "$%.2f", v);
  return buf;
}

json offer_json(const InstanceOffer& o) {
  json j = {{"instance_type", o.instance_type},
            {"vcpus", o.vcpus},
            {"memory_gib", o.memory_gib},
            {"accelerator", o.accelerator_name},
            {"accelerator_count", o.accelerator_count},
            {"gpu_memory_gib", o.gpu_memory_gib},
            {"region", o.region},
            {"price", o.price}};
  j["spot_price"] = o.spot_price ? json(*o.spot_price) : json(nullptr);
  return j;
}

// Which catalogue the prices come from, and when they were fetched.
json catalogue_json(const Catalog& cat) {
  json updates = json::array();
  for (const auto& u : cat.updates())
    updates.push_back({{"region", u.region},
                       {"fetched_at", u.fetched_at},
                       {"file", u.origin},
                       {"ebs_usd_per_gb_month", u.volume_prices}});
  return {{"description", cat.describe()},
          {"sources", cat.sources()},
          {"updates", updates},
          {"warnings", cat.warnings()}};
}

void common(CLI::App* sub, const std::shared_ptr<Opts>& o, bool catalog = true) {
  sub->add_flag("--json", o->json, "Machine-readable output");
  if (catalog) {
    sub->add_option("--catalog", o->catalog,
                    "Catalogue CSV (default: $D2L_DATA_ROOT/catalog/aws.csv, "
                    "<prefix>/share/d2l/catalog/aws.csv, else built-in; plus "
                    "$D2L_CONFIG_DIR/catalog.csv overrides)")
        ->check(d2l::cli::non_empty());
    sub->add_option("--region", o->region, "Region (default: the catalogue's first for the type)")
        ->check(d2l::cli::non_empty());
  }
}

int run_list(const Opts& o) {
  const Catalog cat = d2l::cli::load_catalog(o.catalog);
  std::vector<const InstanceOffer*> rows;
  for (const auto& x : cat.offers()) {
    if (o.gpu && x.accelerator_count <= 0) continue;
    if (o.max_price && x.price > *o.max_price) continue;
    if (!o.region.empty() && x.region != o.region) continue;
    rows.push_back(&x);
  }
  if (o.json) {
    json arr = json::array();
    for (auto* x : rows) arr.push_back(offer_json(*x));
    std::cout << json{{"catalogue", catalogue_json(cat)},
                      {"sources", cat.sources()},
                      {"notes", cat.notes()},
                      {"instances", arr}}
                     .dump(2)
              << "\n";
    return 0;
  }
  std::printf("%-18s %6s %8s %-6s %4s %8s %-10s %10s\n", "INSTANCE", "vCPUs", "MEM GiB", "GPU", "x",
              "GPU GiB", "REGION", "USD/h");
  for (auto* x : rows)
    std::printf("%-18s %6g %8g %-6s %4s %8s %-10s %10.4f\n", x->instance_type.c_str(), x->vcpus,
                x->memory_gib, x->accelerator_name.empty() ? "-" : x->accelerator_name.c_str(),
                x->accelerator_count > 0 ? std::to_string(int(x->accelerator_count)).c_str() : "-",
                x->gpu_memory_gib > 0 ? std::to_string(int(x->gpu_memory_gib)).c_str() : "-",
                x->region.c_str(), x->price);
  std::printf("%zu instance types; prices: %s\n", rows.size(), cat.describe().c_str());
  return 0;
}

int run_estimate(const Opts& o) {
  const Catalog cat = d2l::cli::load_catalog(o.catalog);
  const InstanceOffer& x = cat.find(o.instance, o.region);
  const double secs = parse_duration(o.duration);
  if (o.spot && !x.spot_price)
    throw d2l::bad_input(x.instance_type + ": the catalogue has no spot price");
  const double cost = estimate_cost(x, secs, o.spot);
  if (o.json) {
    std::cout << json{{"instance", offer_json(x)},
                      {"hours", secs / 3600.0},
                      {"spot", o.spot},
                      {"cost", cost},
                      {"catalogue", catalogue_json(cat)}}
                     .dump(2)
              << "\n";
    return 0;
  }
  std::printf("%s (%s) for %s: %s at %s/h%s\nprices: %s\n", x.instance_type.c_str(),
              x.region.c_str(), format_duration(secs).c_str(), money(cost).c_str(),
              money(o.spot ? *x.spot_price : x.price).c_str(), o.spot ? " spot" : "",
              cat.describe().c_str());
  return 0;
}

int run_compare(const Opts& o) {
  const Catalog cat = d2l::cli::load_catalog(o.catalog);
  struct Row {
    const InstanceOffer* x;
    double secs, cost;
  };
  std::vector<Row> rows;
  for (const auto& p : o.pairs) {
    const auto colon = p.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == p.size())
      throw d2l::bad_input("compare: '" + p + "' is not INSTANCE:DURATION (e.g. p3.2xlarge:8h)");
    const InstanceOffer& x = cat.find(p.substr(0, colon), o.region);
    const double secs = parse_duration(p.substr(colon + 1));
    rows.push_back({&x, secs, estimate_cost(x, secs, o.spot && x.spot_price)});
  }
  std::size_t best = 0;
  for (std::size_t i = 1; i < rows.size(); ++i)
    if (rows[i].cost < rows[best].cost) best = i;
  if (o.json) {
    json arr = json::array();
    for (const auto& r : rows)
      arr.push_back({{"instance", offer_json(*r.x)}, {"hours", r.secs / 3600.0}, {"cost", r.cost}});
    std::cout << json{{"runs", arr}, {"cheapest", best}, {"catalogue", catalogue_json(cat)}}.dump(2)
              << "\n";
    return 0;
  }
  std::printf("%-18s %10s %10s %12s\n", "INSTANCE", "DURATION", "USD/h", "COST");
  for (std::size_t i = 0; i < rows.size(); ++i)
    std::printf("%-18s %10s %10.4f %12s%s\n", rows[i].x->instance_type.c_str(),
                format_duration(rows[i].secs).c_str(), rows[i].x->price,
                money(rows[i].cost).c_str(), i == best ? "  <- cheapest" : "");
  if (rows.size() > 1) {
    for (std::size_t i = 0; i < rows.size(); ++i)
      if (i != best && rows[best].cost > 0)
        std::printf("%s costs %.2fx the cheapest\n", rows[i].x->instance_type.c_str(),
                    rows[i].cost / rows[best].cost);
  }
  std::printf("prices: %s\n", cat.describe().c_str());
  return 0;
}

int run_budget_set(const Opts& o) {
  Budget b;
  b.monthly = o.monthly;
  b.alerts = parse_alerts(o.alerts);
  save_budget(budget_path(), b);
  if (o.json) {
    std::cout << json{{"file", budget_path()}, {"monthly", b.monthly}, {"alerts", b.alerts}}.dump(2)
              << "\n";
  } else {
    std::printf("budget: %s a month, alerts at", money(b.monthly).c_str());
    for (double a : b.alerts) std::printf(" %g%%", a);
    std::printf(" (%s)\n", budget_path().c_str());
  }
  return 0;
}

int run_budget_check(const Opts& o) {
  const Budget b = load_budget(budget_path());
  const auto entries = load_ledger(ledger_path());
  const BudgetStatus s = check_budget(b, entries, static_cast<std::int64_t>(std::time(nullptr)));
  if (o.json) {
    json th = json::array();
    for (const auto& t : s.thresholds)
      th.push_back({{"percent", t.percent},
                    {"amount", t.amount},
                    {"actual_over", t.actual_over},
                    {"forecast_over", t.forecast_over}});
    std::cout << json{{"month", s.month},
                      {"monthly", s.monthly},
                      {"actual", s.actual},
                      {"forecast", s.forecast},
                      {"month_fraction", s.month_fraction},
                      {"thresholds", th},
                      {"exit_code", s.exit_code}}
                     .dump(2)
              << "\n";
    return s.exit_code;
  }
  std::printf("%s: spent %s of %s (%.1f%%), %.0f%% of the month gone; forecast %s (%.1f%%)\n",
              s.month.c_str(), money(s.actual).c_str(), money(s.monthly).c_str(),
              100 * s.actual / s.monthly, 100 * s.month_fraction, money(s.forecast).c_str(),
              100 * s.forecast / s.monthly);
  for (const auto& t : s.thresholds)
    std::printf("  alert %5g%% (%s): %s\n", t.percent, money(t.amount).c_str(),
                t.actual_over     ? "REACHED"
                : t.forecast_over ? "forecast to be reached this month"
                                  : "not reached");
  if (s.exit_code == 4) std::printf("over budget\n");
  return s.exit_code;
}

int run_log(const Opts& o) {
  const Catalog cat = d2l::cli::load_catalog(o.catalog);
  const InstanceOffer& x = cat.find(o.instance, o.region);
  UsageEntry e;
  e.time = static_cast<std::int64_t>(std::time(nullptr));
  e.instance_type = x.instance_type;
  e.hours = o.hours;
  e.price_per_hour = x.price;
  e.source = o.source;
  append_ledger(ledger_path(), e);
  if (o.json)
    std::cout << json{{"file", ledger_path()},
                      {"instance_type", e.instance_type},
                      {"hours", e.hours},
                      {"price_per_hour", e.price_per_hour},
                      {"cost", e.cost()}}
                     .dump(2)
              << "\n";
  else
    std::printf("logged %g h of %s = %s (%s)\n", e.hours, e.instance_type.c_str(),
                money(e.cost()).c_str(), ledger_path().c_str());
  return 0;
}

// --- AWS: the budget in AWS Budgets, and prices fetched from AWS ---

std::vector<double> alert_list(const std::string& text) {
  std::vector<double> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? comma : comma - start);
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    if (item.empty() || *end != '\0')
      throw d2l::bad_input("cost: --alerts: '" + text +
                           "' is not a list of percentages like 50,80,90");
    out.push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

int run_budget_set_aws(const Opts& o) {
  namespace cloud = d2l::cloud;
  cloud::BudgetRequest b;
  b.name = o.budget_name;
  b.monthly_usd = o.monthly;
  b.thresholds_pct = alert_list(o.alerts);
  b.email = o.email;
  if (b.email.empty()) throw d2l::bad_input("cost: budget set --aws needs --email ADDRESS");
  cloud::check_budget(b);
  cloud::AwsClient client = d2l::cli::make_aws_client(o.region, o.profile, true);
  const std::string account = cloud::account_id(client);
  if (!o.json)
    std::cout << "Will create AWS budget " << b.name << ": " << money(b.monthly_usd)
              << " a month for account " << account << ", e-mail to " << b.email << " at "
              << o.alerts << " % of actual spend.\n";
  cloud::create_budget(client, account, b);
  if (o.json)
    std::cout << json{{"budget", b.name},         {"account", account},
                      {"monthly", b.monthly_usd}, {"alerts", b.thresholds_pct},
                      {"email", b.email},         {"created", true}}
                     .dump(2)
              << "\n";
  else
    std::cout << "Created: AWS e-mails " << b.email
              << " when actual spend crosses each threshold.\n";
  return 0;
}

int run_budget_check_aws(const Opts& o) {
  namespace cloud = d2l::cloud;
  cloud::AwsClient client = d2l::cli::make_aws_client(o.region, o.profile, true);
  const std::string account = cloud::account_id(client);
  const cloud::BudgetStatus b = cloud::describe_budget(client, account, o.budget_name);
  const double spent = cloud::month_to_date_spend(client, std::time(nullptr));
  // As `budget check`: 4 at/over the budget, 3 forecast at/over it, else 0.
  const int code = b.limit_usd > 0 && spent >= b.limit_usd                               ? 4
                   : b.limit_usd > 0 && b.forecast_usd && *b.forecast_usd >= b.limit_usd ? 3
                                                                                         : 0;
  if (o.json) {
    std::cout << json{{"budget", o.budget_name},
                      {"account", account},
                      {"monthly", b.limit_usd},
                      {"actual", spent},
                      {"actual_budgets", b.actual_usd ? json(*b.actual_usd) : json(nullptr)},
                      {"forecast", b.forecast_usd ? json(*b.forecast_usd) : json(nullptr)},
                      {"exit_code", code}}
                     .dump(2)
              << "\n";
    return code;
  }
  std::cout << "AWS budget " << o.budget_name << ": " << money(b.limit_usd) << " a month\n"
            << "  spent this month (Cost Explorer): " << money(spent);
  if (b.limit_usd > 0) std::cout << " (" << static_cast<int>(100 * spent / b.limit_usd) << " %)";
  std::cout << "\n";
  if (b.forecast_usd)
    std::cout << "  forecast for the month (AWS Budgets): " << money(*b.forecast_usd)
              << (*b.forecast_usd >= b.limit_usd ? "  at or over the budget" : "") << "\n";
  if (code == 4) std::cout << "over budget\n";
  return code;
}

int run_update(const Opts& o) {
  // The region's shape is checked before anything else: a bad one costs no request.
  d2l::cloud::AwsClient client = d2l::cli::make_aws_client(o.region, o.profile);
  const std::string region = client.region();
  const std::string path = d2l::ops::updated_catalog_path();
  if (!o.json)
    std::fprintf(stderr, "Fetching prices of %zu instance types in %s from AWS...\n",
                 d2l::ops::update_instance_types().size(), region.c_str());
  const auto r = d2l::ops::update_catalog(client, region, std::time(nullptr), path);
  if (o.json) {
    json rows = json::array();
    for (const auto& x : r.offers) rows.push_back(offer_json(x));
    std::cout << json{{"file", r.path},
                      {"region", r.region},
                      {"fetched_at", r.fetched_at},
                      {"instances", rows},
                      {"missing", r.missing},
                      {"with_spot", r.with_spot},
                      {"ebs_usd_per_gb_month", r.volume_prices}}
                     .dump(2)
              << "\n";
    return 0;
  }
  std::printf("Updated %s: %zu instance types in %s (%d with a spot price) at %s\n", r.path.c_str(),
              r.offers.size(), r.region.c_str(), r.with_spot, r.fetched_at.c_str());
  if (const auto gp3 = r.volume_prices.find("gp3"); gp3 != r.volume_prices.end())
    std::printf("EBS gp3: %s per GB-month\n", money(gp3->second).c_str());
  if (!r.missing.empty()) {
    std::printf("Not offered in %s:", r.region.c_str());
    for (const auto& t : r.missing) std::printf(" %s", t.c_str());
    std::printf("\n");
  }
  return 0;
}

d2l::cli::Registrar reg{
    "cost", "Instance prices, estimates, comparisons, budgets and a usage ledger",
    [](CLI::App& cmd) -> d2l::cli::Runner {
      auto o = std::make_shared<Opts>();
      cmd.require_subcommand(1);
      cmd.footer(
          "Durations: 8h, 90m, 2d, 1h30m (a bare number is hours).\n"
          "Files: $D2L_CONFIG_DIR (default ~/.config/d2l): catalog-aws.csv (prices 'update'\n"
          "fetched, over the built-in ones), catalog.csv (your prices, over both), budget.json,\n"
          "usage.json (the ledger). AWS (update, budget --aws): credentials and region as\n"
          "'d2l cloud' reads them; endpoints AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_PRICING, _EC2.\n"
          "Exit codes: 0 ok, 1 failure (AWS unreachable or refusing: the catalogue is unchanged),\n"
          "2 usage or bad input (also a corrupt file); 'budget check': 0 under every alert, 3\n"
          "actual or forecast at/over an alert (--aws: forecast at/over the budget), 4 actual\n"
          "at/over the budget.");
      auto* list = cmd.add_subcommand("list", "List the catalogue's instance types and prices");
      common(list, o);
      list->add_flag("--gpu", o->gpu, "Only instance types with GPUs");
      list->add_option("--max-price", o->max_price, "Only types at or under this USD/hour")
          ->check(d2l::cli::number_in(0, 1e9));

      auto* est = cmd.add_subcommand("estimate", "Cost of running INSTANCE for DURATION");
      common(est, o);
      est->add_option("instance", o->instance, "Instance type, e.g. p3.2xlarge")->required();
      est->add_option("duration", o->duration, "Duration, e.g. 8h, 90m, 2d")
          ->required()
          ->check(d2l::cli::parsed_by([](const std::string& t) { parse_duration(t); }, "DURATION"));
      est->add_flag("--spot", o->spot, "Use the spot price");

      auto* cmp = cmd.add_subcommand("compare", "Compare runs: INSTANCE:DURATION ...");
      common(cmp, o);
      cmp->add_option("runs", o->pairs, "e.g. p3.2xlarge:8h g4dn.xlarge:40h")->required();

      auto* budget = cmd.add_subcommand("budget", "Monthly budget with alert thresholds");
      budget->require_subcommand(1);
      auto* bset = budget->add_subcommand("set", "Set the monthly budget and alerts");
      common(bset, o, false);
      bset->add_option("--monthly", o->monthly, "USD per month")
          ->required()
          ->check(d2l::cli::positive_up_to(1e9));
      bset->add_option("--alerts", o->alerts,
                       "Alert thresholds in % of the budget (default 50,80,90)");
      auto aws_flags = [&](CLI::App* sub) {
        sub->add_flag("--aws", o->aws,
                      "The budget in AWS Budgets (e-mail alerts; spend from Cost Explorer)");
        sub->add_option("--name", o->budget_name, "With --aws: budget name (default d2l-monthly)")
            ->check(d2l::cli::non_empty());
        d2l::cli::add_aws_options(sub, o->region, o->profile);
      };
      aws_flags(bset);
      bset->add_option("--email", o->email, "With --aws: who gets the alerts")
          ->check(d2l::cli::non_empty());
      auto* bcheck = budget->add_subcommand(
          "check",
          "Month-to-date spend and forecast against each threshold (exit 0/3/4); --aws: "
          "against the AWS budget");
      common(bcheck, o, false);
      aws_flags(bcheck);

      auto* update = cmd.add_subcommand(
          "update",
          "Fetch today's prices from AWS (Price List API, spot price history, EBS) for a region");
      common(update, o, false);
      d2l::cli::add_aws_options(update, o->region, o->profile);

      auto* log = cmd.add_subcommand("log", "Record HOURS of INSTANCE in the usage ledger");
      common(log, o);
      log->add_option("instance", o->instance, "Instance type")->required();
      log->add_option("hours", o->hours, "Hours used")
          ->required()
          ->check(d2l::cli::positive_up_to(1e6));
      log->add_option("--source", o->source, "Who records it (default cli)");

      return [o, list, est, cmp, bset, bcheck, log, update]() -> int {
        if (update->parsed()) return run_update(*o);
        if (!o->aws &&
            (!o->email.empty() || o->budget_name != "d2l-monthly" ||
             ((bset->parsed() || bcheck->parsed()) && (!o->region.empty() || !o->profile.empty()))))
          throw d2l::bad_input("cost: --email, --name, --region and --profile go with --aws");
        if (bset->parsed()) return o->aws ? run_budget_set_aws(*o) : run_budget_set(*o);
        if (bcheck->parsed()) return o->aws ? run_budget_check_aws(*o) : run_budget_check(*o);
        if (list->parsed()) return run_list(*o);
        if (est->parsed()) return run_estimate(*o);
        if (cmp->parsed()) return run_compare(*o);
        if (bset->parsed()) return run_budget_set(*o);
        if (bcheck->parsed()) return run_budget_check(*o);
        if (log->parsed()) return run_log(*o);
        return 2;
      };
    }};

}  // namespace
