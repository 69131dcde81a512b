#pragma once
/// \file d2l/cloud/ec2.h
/// EC2 instances through the EC2 Query API: list them (ours, tagged `d2l:managed`, or all),
/// stop, start and terminate them, and what they cost so far.
#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "d2l/cloud/aws.h"

namespace d2l::cloud {

/// The tag d2l puts on everything it creates; `list` shows only these unless asked for all.
inline constexpr const char* kManagedTag = "d2l:managed";

/// An instance's state, as EC2 names them.
enum class InstanceState { Pending, Running, ShuttingDown, Terminated, Stopping, Stopped, Unknown };

/// EC2's name of a state (`running`, `shutting-down`, ...); `unknown` for Unknown.
std::string state_name(InstanceState state);
/// The state EC2 names `name`; Unknown for another name.
InstanceState parse_state(const std::string& name);

/// An EBS volume attached to an instance.
struct Volume {
  std::string id;    ///< `vol-...`
  int size_gb = 0;   ///< GiB
  std::string type;  ///< `gp3`, `gp2`, `io1`, ...
};

/// One EC2 instance.
struct Instance {
  std::string id;    ///< `i-0123456789abcdef0`
  std::string name;  ///< its `Name` tag, "" when none
  std::string type;  ///< `g5.xlarge`
  InstanceState state = InstanceState::Unknown;
  std::optional<std::time_t> launch_time;    ///< when it was last started (EC2's LaunchTime)
  std::string public_ip;                     ///< "" when it has none
  std::string availability_zone;             ///< `us-east-1a`
  bool spot = false;                         ///< a spot instance
  std::string key_name;                      ///< its key pair, "" when none
  std::vector<std::string> security_groups;  ///< the ids of its security groups
  /// When it stopped (from EC2's StateTransitionReason), for a stopped instance.
  std::optional<std::time_t> stopped_since;
  std::vector<Volume> volumes;  ///< its EBS volumes, once attach_volumes() ran
  std::vector<std::pair<std::string, std::string>> tags;  ///< all its tags
  /// True when tagged `d2l:managed` (d2l created it).
  bool managed() const;
};

/// The instances in the client's region (DescribeInstances, every page): only those tagged
/// `d2l:managed` unless `all`; terminated ones only when `all`. Throws AwsError.
std::vector<Instance> describe_instances(AwsClient& client, bool all);

/// Fills each instance's `volumes` (DescribeVolumes filtered by the instances' ids; one call).
/// Throws AwsError.
void attach_volumes(AwsClient& client, std::vector<Instance>& instances);

/// USD per GiB-month of an EBS volume type (AWS's us-east-1 prices, 2024: gp3 0.08, gp2 0.10,
/// io1 and io2 0.125, st1 0.045, sc1 0.015, standard 0.05); nullopt for another type.
std::optional<double> volume_price_per_gb_month(const std::string& type);

/// The instances with these ids (DescribeInstances with InstanceId.N). Throws AwsError
/// (`InvalidInstanceID.NotFound` for an id EC2 does not know).
std::vector<Instance> describe_instances_by_id(AwsClient& client,
                                               const std::vector<std::string>& ids);

/// An instance by id (`i-...`) or by its Name tag among `instances`. Throws d2l::bad_input
/// naming `id_or_name` when none matches, or when a name matches several (listing their ids).
const Instance& find_instance(const std::vector<Instance>& instances,
                              const std::string& id_or_name);

/// A state change reported by StopInstances, StartInstances or TerminateInstances.
struct StateChange {
  std::string id;                                   ///< the instance
  InstanceState previous = InstanceState::Unknown;  ///< before the call
  InstanceState current = InstanceState::Unknown;   ///< right after it
};

/// What to do with instances.
enum class InstanceAction { Stop, Start, Terminate };

/// The EC2 action's name: `StopInstances`, `StartInstances`, `TerminateInstances`.
std::string action_name(InstanceAction action);

/// Stops, starts or terminates `ids` (one call). Throws AwsError.
std::vector<StateChange> change_instances(AwsClient& client, InstanceAction action,
                                          const std::vector<std::string>& ids);

/// An instance with what it costs.
struct CostedInstance {
  Instance instance;  ///< the instance
  /// What it costs per hour in its state now: running (or pending, stopping): its compute
  /// price plus its volumes; stopped: its volumes alone (they still bill);
  /// terminated: 0. nullopt when the catalogue lacks a running instance's type.
  std::optional<double> price_per_hour;
  double storage_per_hour = 0;  ///< its volumes' part of that (0 when their types are unknown)
  double hours = 0;             ///< hours in this state: since the last start, or since it stopped
  std::optional<double> cost_so_far;  ///< price_per_hour × hours, when the price is known
};

/// Prices `instances` with `price_of(instance)`, its compute price per hour (nullopt when
/// unknown; the caller picks on-demand or, for a spot instance, the spot price of its zone), at
/// time `now`: see CostedInstance. A stopped instance whose stop time is unknown has `hours` 0.
/// Volumes cost `volume_price(type)` USD per GiB-month (default: volume_price_per_gb_month()).
std::vector<CostedInstance> cost_instances(
    const std::vector<Instance>& instances,
    const std::function<std::optional<double>(const Instance&)>& price_of, std::time_t now,
    const std::function<std::optional<double>(const std::string&)>& volume_price = nullptr);

/// Parses an ISO 8601 UTC time as EC2 writes it (`2026-12-01T05:00:00.000Z`); nullopt if not.
std::optional<std::time_t> parse_aws_time(const std::string& text);

}  // namespace d2l::cloud
