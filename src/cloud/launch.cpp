// Launching an instance (see d2l/cloud/launch.h).
#include "d2l/cloud/launch.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <regex>
#include <thread>

#include "d2l/core/atomic_file.h"
#include "d2l/core/paths.h"

namespace d2l::cloud {

namespace {
using Params = std::vector<std::pair<std::string, std::string>>;

void add_tags(Params& p, const std::string& prefix, const std::string& name) {
  p.emplace_back(prefix + ".Tag.1.Key", kManagedTag);
  p.emplace_back(prefix + ".Tag.1.Value", "1");
  if (!name.empty()) {
    p.emplace_back(prefix + ".Tag.2.Key", "Name");
    p.emplace_back(prefix + ".Tag.2.Value", name);
  }
}

std::string parent_dir(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}
}  // namespace

std::string new_client_token() {
  std::random_device rd;
  std::string s;
  for (int i = 0; i < 4; ++i) {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", rd());
    s += buf;
  }
  return s;
}

void check_cidr(const std::string& cidr) {
  static const std::regex shape(
      "(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}/"
      "(3[0-2]|[12]?[0-9])");
  if (!std::regex_match(cidr, shape))
    throw bad_input("cloud: --ssh-from: '" + cidr + "' is not an IPv4 CIDR like 203.0.113.7/32");
}

bool instance_type_exists(AwsClient& client, const std::string& instance_type) {
  try {
    const XmlNode r =
        client.query(Service::Ec2, "DescribeInstanceTypes", {{"InstanceType.1", instance_type}});
    const XmlNode* set = r.child("instanceTypeSet");
    return set && !set->all("item").empty();
  } catch (const AwsError& e) {
    if (e.code() == "InvalidInstanceType") return false;
    throw;
  }
}

bool ensure_key_pair(AwsClient& client, const std::string& name, const std::string& key_file) {
  bool exists = true;
  try {
    client.query(Service::Ec2, "DescribeKeyPairs", {{"KeyName.1", name}});
  } catch (const AwsError& e) {
    if (e.code() != "InvalidKeyPair.NotFound") throw;
    exists = false;
  }
  if (exists) {
    if (!path_exists(key_file))
      throw Error("cloud: key pair '" + name + "' exists in " + client.region() + " but its " +
                  "private key " + key_file + " is not here: pass --key with a key pair whose " +
                  "file you have");
    return false;
  }
  if (path_exists(key_file))
    throw Error("cloud: " + key_file + " exists but " + client.region() + " has no key pair '" +
                name + "': move the file away or pass --key with another name");
  Params p = {
      {"KeyName", name}, {"KeyType", "ed25519"}, {"TagSpecification.1.ResourceType", "key-pair"}};
  add_tags(p, "TagSpecification.1", "");
  const XmlNode r = client.query(Service::Ec2, "CreateKeyPair", p);
  const std::string material = r.child_text("keyMaterial");
  if (material.empty()) throw Error("cloud: CreateKeyPair " + name + ": the reply has no key");
  ensure_dir(parent_dir(key_file), 0700);
  write_file_atomic(key_file, material + "\n", 0600);
  return true;
}

std::string ensure_security_group(AwsClient& client, const std::string& name,
                                  const std::string& cidr) {
  check_cidr(cidr);
  const XmlNode found = client.query(Service::Ec2, "DescribeSecurityGroups",
                                     {{"Filter.1.Name", "group-name"}, {"Filter.1.Value.1", name}});
  std::string id;
  bool has_rule = false;
  if (const XmlNode* set = found.child("securityGroupInfo"))
    for (const XmlNode* g : set->all("item")) {
      id = g->child_text("groupId");
      if (const XmlNode* perms = g->child("ipPermissions"))
        for (const XmlNode* perm : perms->all("item")) {
          if (perm->child_text("ipProtocol") != "tcp" || perm->child_text("fromPort") != "22")
            continue;
          if (const XmlNode* ranges = perm->child("ipRanges"))
            for (const XmlNode* range : ranges->all("item"))
              has_rule |= range->child_text("cidrIp") == cidr;
        }
    }
  if (id.empty()) {
    Params p = {{"GroupName", name},
                {"GroupDescription", "d2l: SSH from one address only"},
                {"TagSpecification.1.ResourceType", "security-group"}};
    add_tags(p, "TagSpecification.1", "");
    id = client.query(Service::Ec2, "CreateSecurityGroup", p).child_text("groupId");
    if (id.empty()) throw Error("cloud: CreateSecurityGroup " + name + ": the reply has no id");
  }
  if (!has_rule)
    client.query(Service::Ec2, "AuthorizeSecurityGroupIngress",
                 {{"GroupId", id},
                  {"IpPermissions.1.IpProtocol", "tcp"},
                  {"IpPermissions.1.FromPort", "22"},
                  {"IpPermissions.1.ToPort", "22"},
                  {"IpPermissions.1.IpRanges.1.CidrIp", cidr},
                  {"IpPermissions.1.IpRanges.1.Description", "d2l: SSH"}});
  return id;
}

Instance run_instance(AwsClient& client, const LaunchRequest& r) {
  Params p = {{"ImageId", r.image_id},
              {"InstanceType", r.instance_type},
              {"MinCount", "1"},
              {"MaxCount", "1"},
              {"KeyName", r.key_name},
              {"SecurityGroupId.1", r.security_group_id},
              {"ClientToken", r.client_token.empty() ? new_client_token() : r.client_token},
              {"TagSpecification.1.ResourceType", "instance"},
              {"TagSpecification.2.ResourceType", "volume"}};
  add_tags(p, "TagSpecification.1", r.name);
  add_tags(p, "TagSpecification.2", r.name);
  if (r.disk_gb > 0) {
    const XmlNode img = client.query(Service::Ec2, "DescribeImages", {{"ImageId.1", r.image_id}});
    const XmlNode* item = img.path({"imagesSet", "item"});
    const std::string root = item ? item->child_text("rootDeviceName") : "";
    if (root.empty()) throw bad_input("cloud: no image " + r.image_id + " in " + client.region());
    p.emplace_back("BlockDeviceMapping.1.DeviceName", root);
    p.emplace_back("BlockDeviceMapping.1.Ebs.VolumeSize", std::to_string(r.disk_gb));
    p.emplace_back("BlockDeviceMapping.1.Ebs.VolumeType", "gp3");
    p.emplace_back("BlockDeviceMapping.1.Ebs.DeleteOnTermination", "true");
  }
  if (!r.user_data.empty()) {
    const std::string encoded = base64(r.user_data);
    if (encoded.size() > 16384)
      throw bad_input("cloud: the user data is " + std::to_string(encoded.size()) +
                      " bytes in base64: EC2 takes at most 16384");
    p.emplace_back("UserData", encoded);
  }
  if (!r.shutdown_behavior.empty())
    p.emplace_back("InstanceInitiatedShutdownBehavior", r.shutdown_behavior);
  if (r.spot) {
    p.emplace_back("InstanceMarketOptions.MarketType", "spot");
    p.emplace_back("InstanceMarketOptions.SpotOptions.SpotInstanceType", "one-time");
    p.emplace_back("InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior", "terminate");
  }
  const XmlNode reply = client.query(Service::Ec2, "RunInstances", p);
  const XmlNode* item = reply.path({"instancesSet", "item"});
  if (!item) throw Error("cloud: RunInstances: the reply has no instance");
  Instance in;
  in.id = item->child_text("instanceId");
  in.type = item->child_text("instanceType");
  if (const XmlNode* s = item->path({"instanceState", "name"})) in.state = parse_state(s->text);
  in.name = r.name;
  return in;
}

Leftovers find_leftovers(AwsClient& client, const Instance& instance) {
  Leftovers out;
  auto others_use = [&](const std::string& filter, const std::string& value) {
    const XmlNode r = client.query(Service::Ec2, "DescribeInstances",
                                   {{"Filter.1.Name", filter},
                                    {"Filter.1.Value.1", value},
                                    {"Filter.2.Name", "instance-state-name"},
                                    {"Filter.2.Value.1", "pending"},
                                    {"Filter.2.Value.2", "running"},
                                    {"Filter.2.Value.3", "stopping"},
                                    {"Filter.2.Value.4", "stopped"},
                                    {"Filter.2.Value.5", "shutting-down"}});
    if (const XmlNode* set = r.child("reservationSet"))
      for (const XmlNode* res : set->all("item"))
        if (const XmlNode* instances = res->child("instancesSet"))
          for (const XmlNode* item : instances->all("item"))
            if (item->child_text("instanceId") != instance.id) return true;
    return false;
  };
  auto tagged = [](const XmlNode* item) {
    if (const XmlNode* tags = item ? item->child("tagSet") : nullptr)
      for (const XmlNode* t : tags->all("item"))
        if (t->child_text("key") == kManagedTag) return true;
    return false;
  };
  if (!instance.key_name.empty()) {
    try {
      const XmlNode r =
          client.query(Service::Ec2, "DescribeKeyPairs", {{"KeyName.1", instance.key_name}});
      if (tagged(r.path({"keySet", "item"})) && !others_use("key-name", instance.key_name))
        out.key_name = instance.key_name;
    } catch (const AwsError& e) {
      if (e.code() != "InvalidKeyPair.NotFound") throw;
    }
  }
  for (const auto& group : instance.security_groups) {
    const XmlNode r = client.query(Service::Ec2, "DescribeSecurityGroups", {{"GroupId.1", group}});
    if (tagged(r.path({"securityGroupInfo", "item"})) && !others_use("instance.group-id", group))
      out.security_groups.push_back(group);
  }
  return out;
}

void delete_leftovers(AwsClient& client, const Leftovers& leftovers, const std::string& key_file) {
  if (!leftovers.key_name.empty()) {
    client.query(Service::Ec2, "DeleteKeyPair", {{"KeyName", leftovers.key_name}});
    if (!key_file.empty()) std::remove(key_file.c_str());
  }
  for (const auto& group : leftovers.security_groups)
    client.query(Service::Ec2, "DeleteSecurityGroup", {{"GroupId", group}});
}

Instance wait_state(AwsClient& client, const std::string& id, InstanceState state, double timeout_s,
                    double poll_s) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  for (;;) {
    for (const auto& in : describe_instances_by_id(client, {id}))
      if (in.state == state) return in;
    if (std::chrono::steady_clock::now() >= end)
      throw Error("cloud: " + id + " is not " + state_name(state) + " after " +
                  std::to_string(static_cast<int>(timeout_s)) + " s");
    std::this_thread::sleep_for(std::chrono::duration<double>(poll_s));
  }
}

Instance wait_running(AwsClient& client, const std::string& id, double timeout_s, double poll_s) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  for (;;) {
    const std::vector<Instance> found = describe_instances_by_id(client, {id});
    for (const auto& in : found) {
      if (in.state == InstanceState::Running) return in;
      if (in.state == InstanceState::Terminated || in.state == InstanceState::ShuttingDown)
        throw Error("cloud: " + id + " ended (" + state_name(in.state) +
                    ") before it ran: `aws ec2 describe-instances --instance-ids " + id +
                    "` shows the reason (StateReason)");
    }
    if (std::chrono::steady_clock::now() >= end)
      throw Error("cloud: " + id + " is not running after " + std::to_string(int(timeout_s)) +
                  " s: `d2l cloud list` shows it; it may still start");
    std::this_thread::sleep_for(std::chrono::duration<double>(poll_s));
  }
}

}  // namespace d2l::cloud
