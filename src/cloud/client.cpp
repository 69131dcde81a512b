// Signed requests (libcurl's SigV4), retries with backoff and full jitter, and AWS errors as one
// line (see d2l/cloud/aws.h).
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "d2l/cloud/aws.h"
#include "d2l/core/http.h"

namespace d2l::cloud {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// One line, printable: AWS's messages are shown as they come, without control characters.
std::string one_line(std::string s, std::size_t max = 300) {
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  if (s.size() > max) s = s.substr(0, max) + "...";
  return s;
}

}  // namespace

std::string service_name(Service service) {
  switch (service) {
    case Service::Ec2:
      return "ec2";
    case Service::Ssm:
      return "ssm";
    case Service::SageMaker:
      return "sagemaker";
    case Service::Sts:
      return "sts";
    case Service::Budgets:
      return "budgets";
    case Service::CostExplorer:
      return "ce";
    case Service::Pricing:
      return "pricing";
    case Service::Iam:
      return "iam";
  }
  return "ec2";
}

std::string signing_region(Service service, const std::string& region) {
  if (service == Service::Iam)
    return region.rfind("cn-", 0) == 0       ? "cn-north-1"
           : region.rfind("us-gov-", 0) == 0 ? "us-gov-west-1"
                                             : "us-east-1";
  return service == Service::Budgets || service == Service::CostExplorer ||
                 service == Service::Pricing
             ? "us-east-1"
             : region;
}

std::string endpoint_url(Service service, const std::string& region) {
  const std::string suffix =
      service == Service::CostExplorer ? "COST_EXPLORER" : upper(service_name(service));
  std::string url = env(("AWS_ENDPOINT_URL_" + suffix).c_str());
  if (url.empty()) url = env("AWS_ENDPOINT_URL");
  if (!url.empty()) {
    while (url.back() == '/') url.pop_back();
    return url + "/";
  }
  if (service == Service::Budgets) return "https://budgets.amazonaws.com/";
  if (service == Service::CostExplorer) return "https://ce.us-east-1.amazonaws.com/";
  if (service == Service::Pricing) return "https://api.pricing.us-east-1.amazonaws.com/";
  if (service == Service::Iam)
    return region.rfind("cn-", 0) == 0       ? "https://iam.cn-north-1.amazonaws.com.cn/"
           : region.rfind("us-gov-", 0) == 0 ? "https://iam.us-gov.amazonaws.com/"
                                             : "https://iam.amazonaws.com/";
  const std::string host = service == Service::SageMaker ? "api.sagemaker" : service_name(service);
  const std::string domain = region.rfind("cn-", 0) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
  return "https://" + host + "." + region + "." + domain + "/";
}

bool is_retryable(const std::string& code, long status) {
  static const char* const kCodes[] = {"RequestLimitExceeded",
                                       "Throttling",
                                       "ThrottlingException",
                                       "ThrottledException",
                                       "RequestThrottled",
                                       "RequestThrottledException",
                                       "TooManyRequestsException",
                                       "SlowDown",
                                       "ProvisionedThroughputExceededException",
                                       "TransactionInProgressException",
                                       "EC2ThrottledException",
                                       "BandwidthLimitExceeded",
                                       "RequestTimeout",
                                       "RequestTimeoutException",
                                       "InternalError",
                                       "InternalFailure",
                                       "ServiceUnavailable",
                                       "Unavailable",
                                       "PriorRequestNotComplete"};
  for (const char* c : kCodes)
    if (code == c) return true;
  // EC2 answers these with a 5xx, but capacity does not appear within a retry's backoff.
  for (const char* c : {"InsufficientInstanceCapacity", "InsufficientHostCapacity",
                        "InsufficientReservedInstanceCapacity", "InsufficientCapacity"})
    if (code == c) return false;
  return status == 429 || status >= 500;
}

std::string error_advice(const std::string& code, const std::string& action) {
  if (code == "AuthFailure" || code == "SignatureDoesNotMatch" || code == "IncompleteSignature")
    return "AWS did not accept the credentials: check the access key id and secret "
           "(`aws configure`, or the AWS_* variables) and that this machine's clock is right";
  if (code == "InvalidClientTokenId" || code == "UnrecognizedClientException" ||
      code == "InvalidAccessKeyId")
    return "AWS does not know this access key id: it may have been deleted or deactivated";
  if (code == "UnauthorizedOperation" || code == "AccessDenied" || code == "AccessDeniedException")
    return "your IAM identity may not call " + action +
           ": add the permission to its policy (an administrator can, in the IAM console)";
  if (code == "RequestExpired" || code == "ExpiredToken" || code == "ExpiredTokenException" ||
      code == "TokenRefreshRequired")
    return "the credentials (or the request's time) have expired: get new ones (`aws sso login`, "
           "a fresh session token) and check this machine's clock";
  if (code == "InsufficientInstanceCapacity")
    return "AWS has no free capacity for this type in this zone now: try another availability "
           "zone or instance type, or try again later";
  if (code == "VcpuLimitExceeded")
    return "your vCPU quota for this instance family is too low: ask for more in the Service "
           "Quotas console (EC2, `Running On-Demand ... instances`), "
           "https://console.aws.amazon.com/servicequotas/home/services/ec2/quotas";
  if (code == "DuplicateRecordException")
    return "a budget of that name exists: pick another --name or delete it in the Billing "
           "console (Budgets)";
  if (code == "DataUnavailableException")
    return "Cost Explorer has no data yet: it needs to be opened once in the Billing console "
           "and then takes up to 24 hours";
  if (code == "ResourceLimitExceeded")
    return "a SageMaker quota is used up: ask for more in the Service Quotas console "
           "(SageMaker), or stop or delete instances you do not use";
  if (code == "ResourceInUse")
    return "it is in use or busy: `d2l cloud notebook status` shows its state";
  if (code == "MaxSpotInstanceCountExceeded")
    return "your spot quota is used up: ask for more in the Service Quotas console";
  if (code == "InvalidInstanceID.NotFound" || code == "InvalidInstanceID.Malformed")
    return "no such instance in this region: `d2l cloud list --all` shows them";
  if (code == "IncorrectInstanceState" || code == "IncorrectState")
    return "the instance is not in a state that allows this: `d2l cloud list` shows its state";
  if (code == "OptInRequired")
    return "this account is not subscribed to the service in this region";
  if (code == "ParameterNotFound") return "no such SSM parameter in this region";
  if (is_retryable(code, 0))
    return "AWS kept refusing after every retry: wait a minute and try again";
  return "";
}

AwsClient::AwsClient(Credentials credentials, std::string region, RetryPolicy retry)
    : credentials_(std::move(credentials)), region_(std::move(region)), retry_(retry) {
  const std::string attempts = env("AWS_MAX_ATTEMPTS");
  if (!attempts.empty()) {
    char* end = nullptr;
    const long n = std::strtol(attempts.c_str(), &end, 10);
    if (*end != '\0' || n < 1 || n > 20)
      throw bad_input("AWS_MAX_ATTEMPTS: '" + attempts + "' is not a number from 1 to 20");
    retry_.max_attempts = static_cast<int>(n);
  }
}

AwsClient::Reply AwsClient::send(Service service, const std::string& action,
                                 const std::vector<std::string>& headers, const std::string& body,
                                 bool json_protocol) {
  HttpOptions o;
  o.timeout_s = 30;
  o.aws_sigv4 = "aws:amz:" + signing_region(service, region_) + ":" + service_name(service);
  o.credentials = credentials_.access_key_id + ":" + credentials_.secret_access_key;
  o.aws_session_token = credentials_.session_token;
  HttpClient http(o);
  const std::string url = endpoint_url(service, region_);
  const std::string what = service_name(service) + " " + action;
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string last_fault;
  for (int attempt = 1;; ++attempt) {
    last_attempts_ = attempt;
    Reply reply;
    std::string code;
    try {
      const HttpResponse r = http.request("POST", url, headers, body);
      reply.status = r.status;
      reply.body = r.body;
      reply.error_type_header = r.header("x-amzn-ErrorType");
    } catch (const Error& e) {
      last_fault = e.what();
      reply.status = 0;
    }
    if (reply.status >= 200 && reply.status < 300) return reply;
    bool retry = reply.status == 0;  // a transport failure (reset, timeout) is retried too
    std::string message;
    if (reply.status != 0) {
      // Find the code to decide on a retry.
      if (json_protocol) {
        code = reply.error_type_header.substr(0, reply.error_type_header.find(':'));
        try {
          const auto j = nlohmann::json::parse(reply.body);
          if (code.empty() && j.contains("__type") && j["__type"].is_string())
            code = j["__type"].get<std::string>();
          for (const char* k : {"message", "Message"})
            if (j.contains(k) && j[k].is_string()) message = j[k].get<std::string>();
        } catch (const std::exception&) {
        }
        const auto hash = code.rfind('#');
        if (hash != std::string::npos) code = code.substr(hash + 1);
      } else {
        try {
          const XmlNode root = parse_xml(reply.body, what);
          const XmlNode* err = root.path({"Errors", "Error"});
          if (!err && root.name == "ErrorResponse") err = root.child("Error");
          if (!err && root.name == "Error") err = &root;
          if (err) {
            code = err->child_text("Code");
            message = err->child_text("Message");
          }
        } catch (const Error&) {
        }
      }
      retry = is_retryable(code, reply.status);
    }
    if (!retry || attempt >= retry_.max_attempts) {
      if (reply.status == 0)
        throw AwsError("aws " + what + ": " + one_line(last_fault) +
                           (attempt > 1 ? " (after " + std::to_string(attempt) + " attempts)" : ""),
                       "", 0);
      if (code.empty()) code = "HTTP " + std::to_string(reply.status);
      const std::string advice = error_advice(code, action);
      std::string line = "aws " + what + ": " + code;
      if (!message.empty()) line += ": " + one_line(message);
      if (attempt > 1) line += " (after " + std::to_string(attempt) + " attempts)";
      if (!advice.empty()) line += "; " + advice;
      throw AwsError(line, code, reply.status);
    }
    // Full jitter: sleep a random time in [0, min(cap, base * 2^(attempt-1))].
    const double ceiling =
        std::min(retry_.max_backoff_s, retry_.base_s * static_cast<double>(1u << (attempt - 1)));
    std::uniform_real_distribution<double> pick(0, ceiling);
    std::this_thread::sleep_for(std::chrono::duration<double>(pick(rng)));
  }
}

XmlNode AwsClient::query(Service service, const std::string& action,
                         const std::vector<std::pair<std::string, std::string>>& params) {
  const char* version = service == Service::Sts   ? "2011-06-15"
                        : service == Service::Iam ? "2010-05-08"
                                                  : "2016-11-15";
  std::string body = "Action=" + url_encode(action) + "&Version=" + version;
  for (const auto& [k, v] : params) body += "&" + url_encode(k) + "=" + url_encode(v);
  const Reply r =
      send(service, action, {"Content-Type: application/x-www-form-urlencoded; charset=utf-8"},
           body, false);
  return parse_xml(r.body, "aws " + service_name(service) + " " + action);
}

std::string AwsClient::json(Service service, const std::string& target,
                            const std::string& json_body) {
  const std::string action = target.substr(target.find('.') + 1);
  const Reply r =
      send(service, action, {"Content-Type: application/x-amz-json-1.1", "X-Amz-Target: " + target},
           json_body, true);
  return r.body;
}

std::string base64(const std::string& bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == bytes.size()) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string ssm_get_parameter(AwsClient& client, const std::string& name) {
  const nlohmann::json request = {{"Name", name}};
  const std::string body = client.json(Service::Ssm, "AmazonSSM.GetParameter", request.dump());
  try {
    const auto j = nlohmann::json::parse(body);
    return j.at("Parameter").at("Value").get<std::string>();
  } catch (const std::exception&) {
    throw Error("aws ssm GetParameter " + name + ": the reply has no Parameter.Value");
  }
}

}  // namespace d2l::cloud
