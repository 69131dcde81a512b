#pragma once
/// \file d2l/cloud/imds.h
/// The EC2 instance metadata service, version 2 (IMDSv2: a session token by PUT, then GETs that
/// carry it), as every AWS tool reaches it: `$AWS_EC2_METADATA_SERVICE_ENDPOINT` (default
/// http://169.254.169.254), off when `$AWS_EC2_METADATA_DISABLED` is `true`. On it: this
/// instance's id and region (for `d2l autostop --action cloud-stop`), its role's credentials (see
/// resolve_credentials()), and the spot interruption notice, which SpotWatcher polls on a
/// background thread for `d2l train`. Torch-free.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "d2l/core/error.h"

namespace d2l::cloud {

/// The metadata service's base URL without a trailing slash: `$AWS_EC2_METADATA_SERVICE_ENDPOINT`,
/// else `http://169.254.169.254`; nullopt when `$AWS_EC2_METADATA_DISABLED` is `true` (any case).
std::optional<std::string> imds_endpoint();

/// Nothing answered at the metadata service's address within the timeout: not on EC2 (or, in a
/// container on EC2, the instance's metadata hop limit of 1 keeps the answer from arriving).
class ImdsUnreachable : public Error {
 public:
  using Error::Error;
};

/// A session with the metadata service. Not thread-safe.
class Imds {
 public:
  /// Gets a session token (`PUT /latest/api/token`, 6 hours) from `endpoint` ("" =
  /// imds_endpoint()), each request limited to `timeout_s`. Throws ImdsUnreachable when nothing
  /// answers in time (or the service is disabled), d2l::Error when it refuses a token.
  explicit Imds(double timeout_s = 1, std::string endpoint = "");

  /// `GET /latest/PATH` (e.g. `meta-data/instance-id`) with the token: the body, or nullopt when
  /// the service answers 404. A token the service no longer takes (401) is renewed once. Throws
  /// d2l::Error for another status, ImdsUnreachable when it stops answering.
  std::optional<std::string> get(const std::string& path);

  /// The base URL in use.
  const std::string& endpoint() const { return endpoint_; }

 private:
  void renew_token();
  std::string endpoint_;
  double timeout_s_;
  std::string token_;
};

/// What the metadata service says about this instance.
struct InstanceIdentity {
  std::string instance_id;  ///< `i-0123456789abcdef0`
  std::string region;       ///< `us-east-1` (meta-data/placement/region)
  std::string lifecycle;    ///< `spot`, `on-demand`, ... ("" when not said)
};

/// This instance's id, region and lifecycle. Throws d2l::Error when the service lacks the id or
/// the region.
InstanceIdentity instance_identity(Imds& imds);

/// A spot interruption notice (`meta-data/spot/instance-action`): AWS reclaims the instance at
/// `time`, about two minutes after the notice appears.
struct SpotNotice {
  std::string action;  ///< `stop`, `terminate` or `hibernate`
  std::string time;    ///< ISO 8601 UTC, e.g. `2026-12-01T10:02:00Z`
};

/// The notice in the service's JSON (`{"action": "stop", "time": "..."}`); nullopt when the body
/// is not such an object.
std::optional<SpotNotice> parse_spot_notice(const std::string& body);

/// One line: `spot instance will be stopped at 2026-12-01T10:02:00Z` (terminated, hibernated).
std::string describe(const SpotNotice& notice);

/// Whether this machine says it is an EC2 instance, from what Linux shows without privileges:
/// `SYS/class/dmi/id/sys_vendor` or `board_vendor` `Amazon EC2` (Nitro), `board_asset_tag` an
/// instance id (`i-...`), or `SYS/hypervisor/uuid` starting with `ec2` (Xen). Reads files only.
bool looks_like_ec2(const std::string& sys_root = "/sys");

/// How SpotWatcher watches.
struct SpotWatchOptions {
  double interval_s = 5;  ///< between two polls of the notice
  double timeout_s = 1;   ///< each request's limit (the first token request's too)
  /// Where looks_like_ec2() reads. The metadata service is asked only where the machine looks
  /// like EC2 or `$AWS_EC2_METADATA_SERVICE_ENDPOINT` names a service, so a run elsewhere sends
  /// nothing and waits for nothing.
  std::string sys_root = "/sys";
};

/// Watches for a spot interruption notice on a background thread and calls `on_notice` once
/// (on that thread) when one appears. The constructor returns at once: the thread first decides
/// whether there is anything to watch and otherwise ends: the metadata service is disabled, the
/// machine does not look like EC2 (see SpotWatchOptions::sys_root), no token comes within the
/// timeout, or the instance says it is not a spot instance (`meta-data/instance-life-cycle`).
/// Then it polls `meta-data/spot/instance-action` every `interval_s` (404: no notice) and renews
/// its token as needed; a failed poll is tried again at the next one.
class SpotWatcher {
 public:
  using Callback = std::function<void(const SpotNotice&)>;
  explicit SpotWatcher(Callback on_notice, SpotWatchOptions options = {});
  /// Stops the thread and waits for it (at most one request's timeout).
  ~SpotWatcher();
  SpotWatcher(const SpotWatcher&) = delete;
  SpotWatcher& operator=(const SpotWatcher&) = delete;

  /// Where it stands, in words: `starting`, `watching`, `off: <why>`, `noticed: <line>`,
  /// `stopped`.
  std::string status() const;
  /// Polls of the notice made so far.
  int polls() const { return polls_.load(); }

 private:
  void run();
  void set_status(std::string s);
  bool wait(double seconds);  // false when asked to stop

  Callback on_notice_;
  SpotWatchOptions options_;
  std::atomic<int> polls_{0};
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::string status_ = "starting";
  std::thread thread_;
};

}  // namespace d2l::cloud
