#pragma once
/// \file d2l/cloud/launch.h
/// Launching an EC2 instance the safe way: the AMI from a public SSM parameter, a key pair made
/// once and saved 0600, a security group that opens SSH to one CIDR only, tags on everything, and
/// a ClientToken so that a retried RunInstances never makes a second instance.
#include <ctime>
#include <string>
#include <vector>

#include "d2l/cloud/ec2.h"
#include "d2l/cloud/prices.h"

namespace d2l::cloud {

/// The SSM parameter of the latest Deep Learning AMI (Ubuntu 22.04, NVIDIA driver) that
/// `launch` uses unless told another.
inline constexpr const char* kDefaultAmiParameter =
    "/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id";

/// What to launch.
struct LaunchRequest {
  std::string instance_type;      ///< `g5.xlarge`
  std::string image_id;           ///< `ami-...`
  std::string key_name;           ///< an EC2 key pair's name
  std::string security_group_id;  ///< `sg-...`
  std::string name;               ///< the Name tag ("" = none)
  int disk_gb = 0;                ///< root volume size, GiB (0 = the AMI's)
  bool spot = false;              ///< a one-time spot instance (interrupted: terminated)
  std::string client_token;       ///< idempotency token; "" = a new random one
  std::string user_data;          ///< a script run at first boot (sent base64), "" = none
  /// What a shutdown from inside does: `stop` or `terminate`; "" = EC2's default (stop).
  std::string shutdown_behavior;
};

/// A random ClientToken (32 hexadecimal digits).
std::string new_client_token();

/// Throws d2l::bad_input naming `cidr` unless it is an IPv4 CIDR (`203.0.113.7/32`).
void check_cidr(const std::string& cidr);

/// Whether EC2 knows `instance_type` in the client's region (DescribeInstanceTypes).
bool instance_type_exists(AwsClient& client, const std::string& instance_type);

/// The key pair `name`: when EC2 lacks it, creates it (tagged `d2l:managed`) and writes its
/// private key to `key_file` (mode 0600, atomically; the folder is made 0700). Returns true when
/// it created one. Throws d2l::Error when EC2 has it but `key_file` is missing (the private key
/// exists nowhere else), or when `key_file` already exists and EC2 lacks the pair.
bool ensure_key_pair(AwsClient& client, const std::string& name, const std::string& key_file);

/// The id of security group `name` in the default VPC, created (tagged `d2l:managed`) when
/// missing, with an SSH (TCP 22) rule from `cidr` added when it lacks one. Never opens any other
/// port.
std::string ensure_security_group(AwsClient& client, const std::string& name,
                                  const std::string& cidr);

/// Runs one instance (RunInstances with the request's ClientToken, tags on the instance and its
/// volumes). Returns it as EC2 first describes it (usually pending).
Instance run_instance(AwsClient& client, const LaunchRequest& request);

/// What `terminate` may clean up after the last instance that used them: our key pair and our
/// security groups (tagged `d2l:managed`) that no other live instance uses.
struct Leftovers {
  std::string key_name;                      ///< our key pair, "" when none to delete
  std::vector<std::string> security_groups;  ///< ids of our security groups to delete
  /// True when there is nothing to clean up.
  bool empty() const { return key_name.empty() && security_groups.empty(); }
};

/// The key pair and security groups of `instance` that are ours and that no instance but it
/// (in any state but terminated) uses. Throws AwsError.
Leftovers find_leftovers(AwsClient& client, const Instance& instance);

/// Deletes `leftovers` (DeleteKeyPair, DeleteSecurityGroup) and the key pair's private key file
/// `key_file` when it exists. A security group can only go once the instance is terminated:
/// call wait_state() first.
void delete_leftovers(AwsClient& client, const Leftovers& leftovers, const std::string& key_file);

/// Polls DescribeInstances every `poll_s` seconds until `id` is in `state` (returned) or
/// `timeout_s` pass (d2l::Error).
Instance wait_state(AwsClient& client, const std::string& id, InstanceState state, double timeout_s,
                    double poll_s);

/// Polls DescribeInstances every `poll_s` seconds until `id` is running (returned) or
/// `timeout_s` pass, or it ends (terminated, shutting-down: d2l::Error).
Instance wait_running(AwsClient& client, const std::string& id, double timeout_s, double poll_s);

}  // namespace d2l::cloud
