#pragma once
/// \file d2l/cloud/self_stop.h
/// Self-stop for a launched instance, without a role and without d2l on it: user data that
/// installs a small idle check (a shell script run every 5 minutes by a systemd timer) that
/// judges idleness from the same signals as `d2l autostop`, with the tools the Deep Learning AMI
/// has, and runs `shutdown -h now` after the idle time; the instance's shutdown behaviour (stop,
/// or terminate) decides what that shutdown does. And the other way, for an instance whose
/// shutdown behaviour is terminate: stopping this instance through the EC2 API
/// (cloud_stop_this_instance(), `d2l autostop --action cloud-stop`).
#include <string>

#include "d2l/cloud/aws.h"

namespace d2l::cloud {

/// The idle check, a bash script. Busy when any of: a GPU at 5 % utilisation or more
/// (`nvidia-smi`), an established SSH connection (`ss`; Jupyter is reached through the SSH
/// tunnel, so it counts too), a `d2l train` or `d2l-torch train` process (`pgrep`), a 1-minute
/// load average above half the CPUs. It keeps the time idleness began in
/// `$D2L_AUTOSTOP_STATE/idle-since` (default /var/lib/d2l-autostop) and, once idle for
/// `idle_s` seconds, runs `$D2L_SHUTDOWN` (default `shutdown -h now`) and logs why to syslog
/// (`logger -t d2l-autostop`). `/proc/loadavg` is read from `$D2L_PROC` (default /proc).
std::string idle_check_script(double idle_s);

/// The user data (a shell script, under 16 KB) that installs idle_check_script() as
/// /usr/local/sbin/d2l-idle-check with `d2l-autostop.service` and a `d2l-autostop.timer`
/// every 5 minutes, and starts the timer. Throws d2l::bad_input when `idle_s` is under 10
/// minutes (the timer's resolution and a user's first login need that much) or over 30 days.
std::string self_stop_user_data(double idle_s);

/// What cloud_stop_this_instance() stopped (or, in a dry run, would stop).
struct CloudStopResult {
  std::string instance_id;         ///< this instance (IMDSv2 meta-data/instance-id)
  std::string region;              ///< its region (meta-data/placement/region)
  std::string credentials_source;  ///< e.g. `instance role d2l-stop (IMDSv2)`
  std::string previous_state;      ///< EC2's state before the call ("" in a dry run)
  std::string current_state;       ///< right after it (`stopping`; "" in a dry run)
};

/// Stops this EC2 instance through the EC2 API, for instances whose shutdown behaviour is
/// terminate (where `shutdown -h` would destroy them): its id and region from the instance
/// metadata service (IMDSv2, each request `settings.imds_timeout_s` at most), credentials in the
/// standard order (resolve_credentials(): the instance's role when nothing else is set), then
/// EC2 StopInstances. With `dry_run`, StopInstances with `DryRun=true`: AWS checks the permission
/// and stops nothing. `settings.region` is ignored (the instance's own region is used). Throws
/// d2l::Error, one line each: not on EC2 (no metadata service answered in time), no credentials,
/// the permission missing (UnauthorizedOperation: what the role needs), or AWS's error.
CloudStopResult cloud_stop_this_instance(bool dry_run, const AwsSettings& settings = {});

}  // namespace d2l::cloud
