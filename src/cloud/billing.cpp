// AWS Budgets and Cost Explorer (see d2l/cloud/billing.h).
#include "d2l/cloud/billing.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <regex>

namespace d2l::cloud {

namespace {
using nlohmann::json;

json call(AwsClient& client, Service service, const std::string& target, const json& body) {
  const std::string reply = client.json(service, target, body.dump());
  try {
    return reply.empty() ? json::object() : json::parse(reply);
  } catch (const std::exception&) {
    throw Error("aws " + service_name(service) + " " + target + ": the reply is not JSON");
  }
}

std::string amount(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::optional<double> spend_of(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].contains("Amount")) return std::nullopt;
  try {
    return std::stod(j[key]["Amount"].get<std::string>());
  } catch (const std::exception&) {
    return std::nullopt;
  }
}
}  // namespace

std::string account_id(AwsClient& client) {
  const XmlNode r = client.query(Service::Sts, "GetCallerIdentity", {});
  const XmlNode* a = r.path({"GetCallerIdentityResult", "Account"});
  if (!a || a->text.empty()) throw Error("aws sts GetCallerIdentity: the reply has no Account");
  return a->text;
}

void check_budget(const BudgetRequest& r) {
  if (!(r.monthly_usd > 0) || !std::isfinite(r.monthly_usd) || r.monthly_usd > 1e9)
    throw bad_input("cloud: --monthly: expected USD above 0, got " + amount(r.monthly_usd));
  if (r.thresholds_pct.empty()) throw bad_input("cloud: --alerts: give at least one threshold");
  for (double t : r.thresholds_pct)
    if (!(t > 0) || t > 1000)
      throw bad_input("cloud: --alerts: a threshold must be in (0, 1000] %");
  static const std::regex email("[^@\\s]+@[^@\\s]+\\.[^@\\s]+");
  if (!std::regex_match(r.email, email))
    throw bad_input("cloud: --email: '" + r.email + "' is not an e-mail address");
  static const std::regex name("[^:\\\\]{1,100}");
  if (!std::regex_match(r.name, name))
    throw bad_input("cloud: --name: '" + r.name +
                    "' is not a budget name (1 to 100 characters, "
                    "no ':' or '\\')");
}

void create_budget(AwsClient& client, const std::string& account, const BudgetRequest& r) {
  check_budget(r);
  json notifications = json::array();
  for (double t : r.thresholds_pct)
    notifications.push_back(
        {{"Notification",
          {{"NotificationType", "ACTUAL"},
           {"ComparisonOperator", "GREATER_THAN"},
           {"Threshold", t},
           {"ThresholdType", "PERCENTAGE"}}},
         {"Subscribers", json::array({{{"SubscriptionType", "EMAIL"}, {"Address", r.email}}})}});
  call(client, Service::Budgets, "AWSBudgetServiceGateway.CreateBudget",
       {{"AccountId", account},
        {"Budget",
         {{"BudgetName", r.name},
          {"BudgetLimit", {{"Amount", amount(r.monthly_usd)}, {"Unit", "USD"}}},
          {"TimeUnit", "MONTHLY"},
          {"BudgetType", "COST"}}},
        {"NotificationsWithSubscribers", notifications}});
}

BudgetStatus describe_budget(AwsClient& client, const std::string& account,
                             const std::string& name) {
  const json r = call(client, Service::Budgets, "AWSBudgetServiceGateway.DescribeBudget",
                      {{"AccountId", account}, {"BudgetName", name}});
  BudgetStatus s;
  const json b = r.value("Budget", json::object());
  if (const auto limit = spend_of(b, "BudgetLimit")) s.limit_usd = *limit;
  const json spent = b.value("CalculatedSpend", json::object());
  s.actual_usd = spend_of(spent, "ActualSpend");
  s.forecast_usd = spend_of(spent, "ForecastedSpend");
  return s;
}

double month_to_date_spend(AwsClient& client, std::time_t now) {
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char start[48], end[48];
  std::snprintf(start, sizeof start, "%04d-%02d-01", tm.tm_year + 1900, tm.tm_mon + 1);
  // Cost Explorer's end is exclusive: tomorrow, so that today counts.
  const std::time_t tomorrow = now + 86400;
  std::tm tt{};
  ::gmtime_r(&tomorrow, &tt);
  std::snprintf(end, sizeof end, "%04d-%02d-%02d", tt.tm_year + 1900, tt.tm_mon + 1, tt.tm_mday);
  const json r = call(client, Service::CostExplorer, "AWSInsightsIndexService.GetCostAndUsage",
                      {{"TimePeriod", {{"Start", start}, {"End", end}}},
                       {"Granularity", "MONTHLY"},
                       {"Metrics", json::array({"UnblendedCost"})}});
  double total = 0;
  for (const auto& period : r.value("ResultsByTime", json::array()))
    if (const auto v = spend_of(period.value("Total", json::object()), "UnblendedCost"))
      total += *v;
  return total;
}

}  // namespace d2l::cloud
