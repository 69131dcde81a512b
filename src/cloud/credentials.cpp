// Credentials and region from the standard places, in the standard order (see d2l/cloud/aws.h).
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "d2l/cloud/aws.h"
#include "d2l/cloud/imds.h"
#include "d2l/core/process.h"

namespace d2l::cloud {

namespace {

using Settings = std::vector<std::pair<std::string, std::string>>;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string expand_home(const std::string& path) {
  if (path.rfind("~/", 0) == 0) return env("HOME") + path.substr(1);
  return path;
}

std::string credentials_file() {
  const std::string f = env("AWS_SHARED_CREDENTIALS_FILE");
  return expand_home(f.empty() ? "~/.aws/credentials" : f);
}

std::string config_file() {
  const std::string f = env("AWS_CONFIG_FILE");
  return expand_home(f.empty() ? "~/.aws/config" : f);
}

// The keys of section `section` of an INI file; nullopt when the file or the section is absent.
// Indented lines (the nested settings of `s3 =` and the like) are skipped.
std::optional<Settings> read_section(const std::string& file, const std::string& section) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::optional<Settings> out;
  bool inside = false;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[' && t.back() == ']') {
      inside = trim(t.substr(1, t.size() - 2)) == section;
      if (inside && !out) out.emplace();
      continue;
    }
    if (!inside || std::isspace(static_cast<unsigned char>(line[0]))) continue;
    const auto eq = t.find('=');
    if (eq == std::string::npos) continue;
    out->emplace_back(lower(trim(t.substr(0, eq))), trim(t.substr(eq + 1)));
  }
  return out;
}

std::string get(const Settings& s, const std::string& key) {
  for (const auto& [k, v] : s)
    if (k == key) return v;
  return "";
}

Credentials from_credential_process(const std::string& command, const std::string& profile) {
  const std::string who = "credential_process of profile " + profile;
  ChildOptions opts;
  opts.timeout_s = 60;
  const ChildResult r = run_shell(command, opts);
  if (!r.ok()) {
    // Its stderr says why; its stdout may hold a secret, so it is never shown.
    std::string why = trim(r.err);
    const auto nl = why.rfind('\n');
    if (nl != std::string::npos) why = why.substr(nl + 1);
    if (why.size() > 200) why = why.substr(0, 200);
    throw Error("aws: " + who + " failed (" + r.describe() + ")" + (why.empty() ? "" : ": " + why));
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(r.out);
  } catch (const std::exception&) {
    throw Error("aws: " + who + " did not print JSON (expected {\"Version\": 1, ...})");
  }
  if (!j.is_object() || !j.contains("Version") || j["Version"] != 1)
    throw Error("aws: " + who + ": its JSON must have \"Version\": 1");
  auto str = [&](const char* key) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
  };
  Credentials c;
  c.access_key_id = str("AccessKeyId");
  c.secret_access_key = str("SecretAccessKey");
  c.session_token = str("SessionToken");
  c.expiration = str("Expiration");
  c.source = who;
  if (c.access_key_id.empty() || c.secret_access_key.empty())
    throw Error("aws: " + who + ": its JSON lacks AccessKeyId or SecretAccessKey");
  return c;
}

std::optional<Credentials> from_profile(const std::string& name, bool named) {
  const auto profile = read_profile(name);
  if (!profile) {
    if (named)
      throw Error("aws: profile '" + name + "' is in neither " + credentials_file() + " nor " +
                  config_file());
    return std::nullopt;
  }
  const Settings& s = *profile;
  const std::string id = get(s, "aws_access_key_id");
  const std::string secret = get(s, "aws_secret_access_key");
  if (!id.empty() || !secret.empty()) {
    if (id.empty() || secret.empty())
      throw Error("aws: profile '" + name + "' has " +
                  (id.empty() ? "aws_secret_access_key but no aws_access_key_id"
                              : "aws_access_key_id but no aws_secret_access_key"));
    Credentials c;
    c.access_key_id = id;
    c.secret_access_key = secret;
    c.session_token = get(s, "aws_session_token");
    c.source = "profile " + name;
    return c;
  }
  const std::string process = get(s, "credential_process");
  if (!process.empty()) return from_credential_process(process, name);
  const std::string export_hint =
      "set credential_process = aws configure export-credentials "
      "--profile " +
      name + " --format process";
  if (!get(s, "sso_start_url").empty() || !get(s, "sso_session").empty())
    throw Error("aws: profile '" + name +
                "' signs in through IAM Identity Center (SSO), which d2l does not read: run "
                "`aws sso login --profile " +
                name + "`, and in another profile " + export_hint);
  if (!get(s, "role_arn").empty())
    throw Error("aws: profile '" + name +
                "' assumes a role (role_arn), which d2l does not do itself: in another profile " +
                export_hint);
  if (named)
    throw Error("aws: profile '" + name +
                "' has no credentials (aws_access_key_id and aws_secret_access_key, or "
                "credential_process)");
  return std::nullopt;
}

std::optional<Credentials> from_imds(double timeout_s) {
  if (!imds_endpoint()) return std::nullopt;
  std::optional<Imds> imds;
  try {
    imds.emplace(timeout_s);
  } catch (const ImdsUnreachable&) {
    return std::nullopt;  // not on EC2 (nothing answers)
  }
  const std::string base = "meta-data/iam/security-credentials/";
  const auto roles = imds->get(base);
  if (!roles)
    throw Error("aws: this EC2 instance has no IAM role, and no other credentials were found");
  std::string role = trim(*roles);
  role = role.substr(0, role.find('\n'));
  const auto cred = imds->get(base + role);
  if (!cred) throw Error("aws: the instance metadata service has no credentials for role " + role);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(*cred);
  } catch (const std::exception&) {
    throw Error("aws: the instance metadata service's credentials for role " + role +
                " are not JSON");
  }
  auto str = [&](const char* key) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
  };
  if (!str("Code").empty() && str("Code") != "Success")
    throw Error("aws: the instance metadata service has no credentials for role " + role + " (" +
                str("Code") + ")");
  Credentials c;
  c.access_key_id = str("AccessKeyId");
  c.secret_access_key = str("SecretAccessKey");
  c.session_token = str("Token");
  c.expiration = str("Expiration");
  c.source = "instance role " + role + " (IMDSv2)";
  if (c.access_key_id.empty() || c.secret_access_key.empty())
    throw Error("aws: the instance metadata service's credentials for role " + role +
                " lack AccessKeyId or SecretAccessKey");
  return c;
}

}  // namespace

std::string profile_name(const AwsSettings& settings) {
  if (!settings.profile.empty()) return settings.profile;
  const std::string p = env("AWS_PROFILE");
  return p.empty() ? "default" : p;
}

std::optional<Settings> read_profile(const std::string& name) {
  auto creds = read_section(credentials_file(), name);
  auto config = read_section(config_file(), name == "default" ? "default" : "profile " + name);
  if (!creds && !config) return std::nullopt;
  Settings out = creds ? *creds : Settings{};
  if (config)
    for (const auto& kv : *config)
      if (get(out, kv.first).empty()) out.push_back(kv);
  return out;
}

Credentials resolve_credentials(const AwsSettings& settings) {
  // An explicit --profile beats the environment's keys, as in the AWS CLI; $AWS_PROFILE does not.
  if (settings.profile.empty()) {
    const std::string id = env("AWS_ACCESS_KEY_ID");
    const std::string secret = env("AWS_SECRET_ACCESS_KEY");
    if (!id.empty() || !secret.empty()) {
      if (id.empty() || secret.empty())
        throw Error(std::string("aws: ") +
                    (id.empty() ? "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"
                                : "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"));
      Credentials c;
      c.access_key_id = id;
      c.secret_access_key = secret;
      c.session_token = env("AWS_SESSION_TOKEN");
      c.source = "environment";
      return c;
    }
  }
  const std::string name = profile_name(settings);
  const bool named = !settings.profile.empty() || !env("AWS_PROFILE").empty();
  if (auto c = from_profile(name, named)) return *c;
  if (auto c = from_imds(settings.imds_timeout_s)) return *c;
  throw Error(
      "aws: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run "
      "`aws configure` (" +
      credentials_file() + "), or pass --profile NAME");
}

void check_region(const std::string& region) {
  static const std::regex shape("[a-z]{2}(-[a-z]+)+-[0-9]{1,2}");
  if (!std::regex_match(region, shape))
    throw bad_input("aws: '" + region + "' is not a region name (like us-east-1 or eu-west-2)");
}

std::string resolve_region(const AwsSettings& settings) {
  std::string region = settings.region;
  if (region.empty()) region = env("AWS_REGION");
  if (region.empty()) region = env("AWS_DEFAULT_REGION");
  if (region.empty()) {
    const std::string name = profile_name(settings);
    if (const auto p = read_profile(name)) region = get(*p, "region");
  }
  if (region.empty())
    throw Error("aws: no region: pass --region R, set AWS_REGION, or add `region = R` to " +
                config_file());
  check_region(region);
  return region;
}

}  // namespace d2l::cloud
