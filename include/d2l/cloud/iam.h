#pragma once
/// \file d2l/cloud/iam.h
/// The IAM role a SageMaker notebook instance runs as (its execution role), through IAM's Query
/// API (global: `https://iam.amazonaws.com`, signed for us-east-1; `$AWS_ENDPOINT_URL_IAM`):
/// found by name, or created once (`d2l-sagemaker-notebook`, tagged `d2l:managed`, trusting
/// sagemaker.amazonaws.com, with the AWS managed policy AmazonSageMakerFullAccess), and deleted
/// when no notebook instance uses it any more. IAM's refusals become one line naming the
/// permission that is missing.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "d2l/cloud/aws.h"

namespace d2l::cloud {

/// The role `d2l cloud notebook create` makes when no `--role` is given.
inline constexpr const char* kNotebookRoleName = "d2l-sagemaker-notebook";
/// The AWS managed policy attached to it.
inline constexpr const char* kNotebookRolePolicy = "AmazonSageMakerFullAccess";

/// The partition of `region` as ARNs write it: `aws`, `aws-cn` (cn-*), `aws-us-gov` (us-gov-*).
std::string partition_of(const std::string& region);

/// Throws d2l::bad_input unless `arn` has the shape of an IAM role's ARN
/// (`arn:aws:iam::123456789012:role/NAME`, a path allowed before NAME).
void check_role_arn(const std::string& arn);

/// The role's name in its ARN (the part after the last `/`).
std::string role_name_of(const std::string& arn);

/// An IAM role as GetRole describes it.
struct IamRole {
  std::string name;          ///< `d2l-sagemaker-notebook`
  std::string arn;           ///< `arn:aws:iam::123456789012:role/d2l-sagemaker-notebook`
  std::string trust_policy;  ///< the assume-role policy document (JSON, decoded)
  std::vector<std::pair<std::string, std::string>> tags;  ///< its tags
  std::string last_used_region;  ///< where it was last used ("" when never or unknown)
  /// True when tagged `d2l:managed` (d2l created it).
  bool managed() const;
  /// True when its trust policy lets `service` (`sagemaker.amazonaws.com`) assume it.
  bool trusts(const std::string& service) const;
};

/// The role `name` (GetRole), nullopt when IAM has none of that name (NoSuchEntity). Throws
/// AwsError (AccessDenied: one line naming iam:GetRole).
std::optional<IamRole> get_role(AwsClient& client, const std::string& name);

/// Creates the notebook role `name`: CreateRole (trusting sagemaker.amazonaws.com, tagged
/// `d2l:managed`, with a description), then AttachRolePolicy with the partition's
/// AmazonSageMakerFullAccess. Throws AwsError (AccessDenied: one line naming the permission
/// and saying that `--role ARN` of an existing role avoids it).
IamRole create_notebook_role(AwsClient& client, const std::string& name = kNotebookRoleName);

/// Detaches the role's managed policies (ListAttachedRolePolicies, DetachRolePolicy) and
/// deletes it (DeleteRole). Throws AwsError (DeleteConflict: it holds inline policies or
/// instance profiles d2l did not make; AccessDenied: the permission).
void delete_role(AwsClient& client, const std::string& name);

}  // namespace d2l::cloud
