#pragma once
/// \file d2l/cloud/billing.h
/// The appendix's cost alerts in AWS itself: a monthly AWS Budgets budget with e-mail alerts at
/// thresholds, and month-to-date spend from Cost Explorer.
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "d2l/cloud/aws.h"

namespace d2l::cloud {

/// The 12-digit id of the account the credentials belong to (STS GetCallerIdentity).
std::string account_id(AwsClient& client);

/// A monthly cost budget.
struct BudgetRequest {
  std::string name = "d2l-monthly";    ///< the budget's name
  double monthly_usd = 0;              ///< its limit, USD per month
  std::vector<double> thresholds_pct;  ///< alert at these % of actual spend (e.g. 50, 80, 90)
  std::string email;                   ///< who gets the alerts
};

/// Throws d2l::bad_input for a limit that is not positive, a threshold outside (0, 1000], an
/// address without `@`, or a name AWS would refuse.
void check_budget(const BudgetRequest& request);

/// Creates the budget with one e-mail notification per threshold (CreateBudget). Throws
/// AwsError (`DuplicateRecordException` when the name is taken).
void create_budget(AwsClient& client, const std::string& account, const BudgetRequest& request);

/// A budget as AWS Budgets keeps it.
struct BudgetStatus {
  double limit_usd = 0;                ///< its monthly limit
  std::optional<double> actual_usd;    ///< spend so far this month, as Budgets computed it
  std::optional<double> forecast_usd;  ///< Budgets' forecast for the month
};

/// DescribeBudget. Throws AwsError (`NotFoundException` when there is none of that name).
BudgetStatus describe_budget(AwsClient& client, const std::string& account,
                             const std::string& name);

/// This month's spend so far (Cost Explorer GetCostAndUsage, UnblendedCost, from the 1st of the
/// month to `now`'s day, UTC), USD.
double month_to_date_spend(AwsClient& client, std::time_t now);

}  // namespace d2l::cloud
