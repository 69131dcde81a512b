#pragma once
/// \file d2l/cloud/aws.h
/// AWS access the way every AWS tool does it: credentials and region from the standard places in
/// the standard order, endpoints overridable by the standard variables, requests signed with
/// Signature Version 4 by libcurl (CURLOPT_AWS_SIGV4, through d2l/core/http.h), retried with
/// exponential backoff and full jitter on throttling and 5xx, and every AWS error turned into
/// one line with its code and what to do. Secrets are never put in a message.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "d2l/cloud/xml.h"
#include "d2l/core/error.h"

namespace d2l::cloud {

/// AWS credentials. The secret and the token never appear in a message or a log.
struct Credentials {
  std::string access_key_id;      ///< `AKIA...` or `ASIA...` (may be shown)
  std::string secret_access_key;  ///< never shown
  std::string session_token;      ///< "" for long-term keys; never shown
  /// Where they came from, for messages: `environment`, `profile dev (~/.aws/credentials)`,
  /// `credential_process of profile dev`, `instance role NAME (IMDSv2)`.
  std::string source;
  std::string expiration;  ///< ISO 8601 expiry of temporary credentials, "" when none given
};

/// What resolve_credentials() and resolve_region() read besides the environment.
struct AwsSettings {
  std::string profile;        ///< a profile name (`--profile`); "" = $AWS_PROFILE, else `default`
  std::string region;         ///< a region (`--region`); "" = from the environment or the profile
  double imds_timeout_s = 1;  ///< limit for each request to the instance metadata service
};

/// The profile in use: `settings.profile`, else $AWS_PROFILE, else `default`.
std::string profile_name(const AwsSettings& settings);

/// A profile's settings from the shared files: `$AWS_SHARED_CREDENTIALS_FILE` (default
/// `~/.aws/credentials`, sections `[NAME]`) and `$AWS_CONFIG_FILE` (default `~/.aws/config`,
/// sections `[profile NAME]` and `[default]`); the credentials file wins for keys in both.
/// Keys are lower-case (`aws_access_key_id`, `region`, `credential_process`, ...). nullopt when
/// neither file has the profile.
std::optional<std::vector<std::pair<std::string, std::string>>> read_profile(
    const std::string& name);

/// Finds credentials in the standard order and returns the first found:
/// 1. `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`);
/// 2. the profile (see profile_name()): its keys, else its `credential_process` (run through
/// `/bin/sh -c`,
///    60 s at most; it prints JSON with `Version: 1`);
///    an SSO profile gets a message saying to run `aws sso login --profile NAME` and use a
///    `credential_process`; a role profile (`role_arn`) the same;
/// 3. the instance's role through IMDSv2 (a token by PUT, then GET; endpoint
///    `$AWS_EC2_METADATA_SERVICE_ENDPOINT`, default http://169.254.169.254; skipped when
///    `$AWS_EC2_METADATA_DISABLED` is `true`).
/// Throws d2l::Error saying where it looked when none has credentials, or naming the source and
/// the fault (a half-set environment pair, a failing credential_process, a malformed reply).
Credentials resolve_credentials(const AwsSettings& settings = {});

/// The region: `settings.region`, else `$AWS_REGION`, else `$AWS_DEFAULT_REGION`, else the
/// profile's `region`. Throws d2l::bad_input for a malformed name (`us-east-1` is the shape),
/// and d2l::Error saying how to give one when there is none.
std::string resolve_region(const AwsSettings& settings = {});

/// Throws d2l::bad_input naming `region` unless it has the shape of a region (`eu-west-2`,
/// `us-gov-west-1`, `cn-north-1`).
void check_region(const std::string& region);

/// The AWS services d2l calls.
enum class Service { Ec2, Ssm, SageMaker, Sts, Budgets, CostExplorer, Pricing, Iam };

/// The service's name as in a signature scope: `ec2`, `ssm`, `sagemaker`, `sts`, `budgets`,
/// `ce`, `pricing`, `iam`.
std::string service_name(Service service);

/// The region a request to `service` is signed for: `region`, except for the global Budgets
/// and Cost Explorer and the Price List API (whose endpoint for every region's prices is
/// us-east-1's), signed for us-east-1, and the global IAM, signed for its partition's region
/// (us-east-1; cn-north-1 in China, us-gov-west-1 in GovCloud).
std::string signing_region(Service service, const std::string& region);

/// The endpoint URL for `service` in `region`: `$AWS_ENDPOINT_URL_EC2` (`_SSM`, `_SAGEMAKER`,
/// `_STS`, `_BUDGETS`, `_COST_EXPLORER`, `_PRICING`), else `$AWS_ENDPOINT_URL`, else AWS's:
/// `https://ec2.REGION.amazonaws.com` (SSM: `ssm.`, SageMaker: `api.sagemaker.`, STS: `sts.`;
/// `.amazonaws.com.cn` in China's regions), `https://budgets.amazonaws.com`,
/// `https://ce.us-east-1.amazonaws.com`, `https://api.pricing.us-east-1.amazonaws.com`; IAM
/// (`$AWS_ENDPOINT_URL_IAM`): `https://iam.amazonaws.com`
/// (`https://iam.cn-north-1.amazonaws.com.cn`, `https://iam.us-gov.amazonaws.com`).
std::string endpoint_url(Service service, const std::string& region);

/// One error reply of an AWS API (or a transport failure after the retries). what() is one
/// line: `ec2 DescribeInstances: AuthFailure: <AWS's message> (<what to do>)`.
class AwsError : public Error {
 public:
  AwsError(const std::string& message, std::string code, long status)
      : Error(message), code_(std::move(code)), status_(status) {}
  /// The AWS error code (`UnauthorizedOperation`), "" for a transport failure.
  const std::string& code() const noexcept { return code_; }
  /// The HTTP status, 0 for a transport failure.
  long status() const noexcept { return status_; }

 private:
  std::string code_;
  long status_;
};

/// What to do about an AWS error code, "" when there is nothing to add: e.g. for
/// `InsufficientInstanceCapacity`, to try another availability zone or instance type.
std::string error_advice(const std::string& code, const std::string& action);

/// True for the codes (and HTTP statuses) the AWS SDKs retry: throttling
/// (`RequestLimitExceeded`, `Throttling`, `ThrottlingException`, ...), 5xx and 429.
bool is_retryable(const std::string& code, long status);

/// How requests are retried.
struct RetryPolicy {
  int max_attempts = 5;       ///< attempts in all; `$AWS_MAX_ATTEMPTS` overrides when set
  double base_s = 0.1;        ///< the first backoff's ceiling, doubled each attempt
  double max_backoff_s = 20;  ///< the ceiling's ceiling
};

/// Signed requests to AWS's APIs in one region with one set of credentials.
class AwsClient {
 public:
  /// Reads `$AWS_MAX_ATTEMPTS` into the policy when set (1 to 20; else d2l::bad_input).
  AwsClient(Credentials credentials, std::string region, RetryPolicy retry = {});

  /// A Query-API call (EC2, STS, IAM): a form-encoded POST of `Action`, `Version` (EC2:
  /// 2016-11-15, STS: 2011-06-15, IAM: 2010-05-08) and `params` to the service's endpoint. Returns
  /// the reply's root element. Throws AwsError.
  XmlNode query(Service service, const std::string& action,
                const std::vector<std::pair<std::string, std::string>>& params);

  /// A JSON-protocol call (SSM, SageMaker): POST of `json_body` with `X-Amz-Target: target`
  /// (`AmazonSSM.GetParameter`) as `application/x-amz-json-1.1`. Returns the reply's body.
  /// Throws AwsError.
  std::string json(Service service, const std::string& target, const std::string& json_body);

  /// Attempts made by the last call (1 when it needed no retry).
  int last_attempts() const { return last_attempts_; }
  /// The region.
  const std::string& region() const { return region_; }
  /// The credentials' source (never the secret).
  const std::string& credentials_source() const { return credentials_.source; }

 private:
  struct Reply {
    long status = 0;
    std::string body;
    std::string error_type_header;
  };
  Reply send(Service service, const std::string& action, const std::vector<std::string>& headers,
             const std::string& body, bool json_protocol);

  Credentials credentials_;
  std::string region_;
  RetryPolicy retry_;
  int last_attempts_ = 0;
};

/// Standard base64 (RFC 4648, with padding), as AWS takes user data and lifecycle scripts.
std::string base64(const std::string& bytes);

/// The value of an SSM parameter (`GetParameter`), e.g. the latest Deep Learning AMI's id from
/// `/aws/service/deeplearning/ami/...`. Throws AwsError (`ParameterNotFound`: names it).
std::string ssm_get_parameter(AwsClient& client, const std::string& name);

}  // namespace d2l::cloud
