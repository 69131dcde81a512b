// The EC2 instance metadata service (IMDSv2) and the spot interruption watcher (see
// d2l/cloud/imds.h).
#include "d2l/cloud/imds.h"

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "d2l/core/http.h"

namespace d2l::cloud {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// The first line of a small file, "" when it cannot be read.
std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return trim(line);
}

std::string format_timeout(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", s);
  return buf;
}

}  // namespace

std::optional<std::string> imds_endpoint() {
  if (lower(trim(env("AWS_EC2_METADATA_DISABLED"))) == "true") return std::nullopt;
  std::string endpoint = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (endpoint.empty()) endpoint = "http://169.254.169.254";
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  return endpoint;
}

Imds::Imds(double timeout_s, std::string endpoint)
    : endpoint_(std::move(endpoint)), timeout_s_(timeout_s) {
  if (endpoint_.empty()) {
    const auto e = imds_endpoint();
    if (!e)
      throw ImdsUnreachable(
          "aws: the instance metadata service is turned off (AWS_EC2_METADATA_DISABLED=true)");
    endpoint_ = *e;
  }
  while (!endpoint_.empty() && endpoint_.back() == '/') endpoint_.pop_back();
  renew_token();
}

void Imds::renew_token() {
  HttpOptions o;
  o.timeout_s = timeout_s_;
  HttpClient http(o);
  HttpResponse r;
  try {
    r = http.request("PUT", endpoint_ + "/latest/api/token",
                     {"X-aws-ec2-metadata-token-ttl-seconds: 21600"}, "");
  } catch (const Error&) {
    throw ImdsUnreachable("aws: no instance metadata service answered at " + endpoint_ +
                          " within " + format_timeout(timeout_s_) +
                          ": not on EC2 (in a container on EC2, the instance's metadata hop "
                          "limit must be 2 or more)");
  }
  if (r.status != 200 || trim(r.body).empty())
    throw Error("aws: the instance metadata service refused a session token (HTTP " +
                std::to_string(r.status) + "); IMDSv2 may be disabled on this instance");
  token_ = trim(r.body);
}

std::optional<std::string> Imds::get(const std::string& path) {
  HttpOptions o;
  o.timeout_s = timeout_s_;
  HttpClient http(o);
  for (int attempt = 0;; ++attempt) {
    HttpResponse r;
    try {
      r = http.request("GET", endpoint_ + "/latest/" + path,
                       {"X-aws-ec2-metadata-token: " + token_});
    } catch (const Error&) {
      throw ImdsUnreachable("aws: the instance metadata service at " + endpoint_ +
                            " did not answer for " + path + " within " +
                            format_timeout(timeout_s_));
    }
    if (r.status == 200) return r.body;
    if (r.status == 404) return std::nullopt;
    if (r.status == 401 && attempt == 0) {  // the token expired: one new one
      renew_token();
      continue;
    }
    throw Error("aws: the instance metadata service answered HTTP " + std::to_string(r.status) +
                " for " + path);
  }
}

InstanceIdentity instance_identity(Imds& imds) {
  InstanceIdentity id;
  const auto instance = imds.get("meta-data/instance-id");
  const auto region = imds.get("meta-data/placement/region");
  if (!instance || trim(*instance).empty())
    throw Error("aws: the instance metadata service at " + imds.endpoint() +
                " does not give this instance's id");
  if (!region || trim(*region).empty())
    throw Error("aws: the instance metadata service at " + imds.endpoint() +
                " does not give this instance's region");
  id.instance_id = trim(*instance);
  id.region = trim(*region);
  if (const auto life = imds.get("meta-data/instance-life-cycle")) id.lifecycle = trim(*life);
  return id;
}

std::optional<SpotNotice> parse_spot_notice(const std::string& body) {
  try {
    const auto j = nlohmann::json::parse(body);
    if (!j.is_object() || !j.contains("action") || !j["action"].is_string()) return std::nullopt;
    SpotNotice n;
    n.action = j["action"].get<std::string>();
    if (j.contains("time") && j["time"].is_string()) n.time = j["time"].get<std::string>();
    if (n.action.empty()) return std::nullopt;
    return n;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string describe(const SpotNotice& n) {
  std::string done = n.action == "stop"        ? "stopped"
                     : n.action == "terminate" ? "terminated"
                     : n.action == "hibernate" ? "hibernated"
                                               : "reclaimed (" + n.action + ")";
  // The time as AWS wrote it, without control characters (it goes on one line).
  std::string time = n.time.empty() ? "any moment" : n.time;
  for (char& c : time)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  if (time.size() > 64) time = time.substr(0, 64);
  return "spot instance will be " + done + " at " + time;
}

bool looks_like_ec2(const std::string& sys_root) {
  const std::string dmi = sys_root + "/class/dmi/id/";
  for (const char* f : {"sys_vendor", "board_vendor"})
    if (first_line(dmi + f).find("Amazon EC2") != std::string::npos) return true;
  if (first_line(dmi + "board_asset_tag").rfind("i-", 0) == 0) return true;
  return lower(first_line(sys_root + "/hypervisor/uuid")).rfind("ec2", 0) == 0;
}

SpotWatcher::SpotWatcher(Callback on_notice, SpotWatchOptions options)
    : on_notice_(std::move(on_notice)), options_(std::move(options)) {
  thread_ = std::thread([this] { run(); });
}

SpotWatcher::~SpotWatcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string SpotWatcher::status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return status_;
}

void SpotWatcher::set_status(std::string s) {
  std::lock_guard<std::mutex> lock(mutex_);
  status_ = std::move(s);
}

bool SpotWatcher::wait(double seconds) {
  std::unique_lock<std::mutex> lock(mutex_);
  return !cv_.wait_for(lock, std::chrono::duration<double>(seconds), [this] { return stop_; });
}

void SpotWatcher::run() {
  const auto endpoint = imds_endpoint();
  if (!endpoint) return set_status("off: the metadata service is turned off");
  if (env("AWS_EC2_METADATA_SERVICE_ENDPOINT").empty() && !looks_like_ec2(options_.sys_root))
    return set_status("off: not an EC2 instance");
  std::optional<Imds> imds;
  try {
    imds.emplace(options_.timeout_s, *endpoint);
    const auto life = imds->get("meta-data/instance-life-cycle");
    if (life && !trim(*life).empty() && trim(*life) != "spot")
      return set_status("off: not a spot instance (" + trim(*life) + ")");
  } catch (const std::exception& e) {
    return set_status(std::string("off: ") + e.what());
  }
  set_status("watching");
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stop_) break;
    }
    try {
      if (!imds) imds.emplace(options_.timeout_s, *endpoint);
      ++polls_;
      if (const auto body = imds->get("meta-data/spot/instance-action")) {
        if (const auto notice = parse_spot_notice(*body)) {
          set_status("noticed: " + describe(*notice));
          if (on_notice_) on_notice_(*notice);
          return;
        }
      }
    } catch (const std::exception&) {
      imds.reset();  // a missed poll (the service busy or gone a moment): a new session next time
    }
    if (!wait(options_.interval_s)) break;
  }
  set_status("stopped");
}

}  // namespace d2l::cloud
