// EC2 instances through the Query API (see d2l/cloud/ec2.h).
#include "d2l/cloud/ec2.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace d2l::cloud {

namespace {
struct StateName {
  InstanceState state;
  const char* name;
};
constexpr StateName kStates[] = {
    {InstanceState::Pending, "pending"},
    {InstanceState::Running, "running"},
    {InstanceState::ShuttingDown, "shutting-down"},
    {InstanceState::Terminated, "terminated"},
    {InstanceState::Stopping, "stopping"},
    {InstanceState::Stopped, "stopped"},
};

Instance parse_instance(const XmlNode& item) {
  Instance in;
  in.id = item.child_text("instanceId");
  in.type = item.child_text("instanceType");
  if (const XmlNode* s = item.path({"instanceState", "name"})) in.state = parse_state(s->text);
  in.launch_time = parse_aws_time(item.child_text("launchTime"));
  in.public_ip = item.child_text("ipAddress");
  if (const XmlNode* z = item.path({"placement", "availabilityZone"}))
    in.availability_zone = z->text;
  in.spot = item.child_text("instanceLifecycle") == "spot";
  in.key_name = item.child_text("keyName");
  if (const XmlNode* groups = item.child("groupSet"))
    for (const XmlNode* g : groups->all("item"))
      in.security_groups.push_back(g->child_text("groupId"));
  if (in.state == InstanceState::Stopped) {
    // `User initiated (2026-12-01 05:00:00 GMT)`
    const std::string why = item.child_text("reason");
    const auto open = why.find('(');
    if (open != std::string::npos) {
      std::string t = why.substr(open + 1, 19);
      if (t.size() == 19 && t[10] == ' ') t[10] = 'T';
      in.stopped_since = parse_aws_time(t);
    }
  }
  if (const XmlNode* tags = item.child("tagSet"))
    for (const XmlNode* t : tags->all("item")) {
      in.tags.emplace_back(t->child_text("key"), t->child_text("value"));
      if (in.tags.back().first == "Name") in.name = in.tags.back().second;
    }
  return in;
}
}  // namespace

std::string state_name(InstanceState state) {
  for (const auto& s : kStates)
    if (s.state == state) return s.name;
  return "unknown";
}

InstanceState parse_state(const std::string& name) {
  for (const auto& s : kStates)
    if (name == s.name) return s.state;
  return InstanceState::Unknown;
}

bool Instance::managed() const {
  for (const auto& t : tags)
    if (t.first == kManagedTag) return true;
  return false;
}

std::optional<std::time_t> parse_aws_time(const std::string& text) {
  int y, mo, d, h, mi, s;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6)
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return ::timegm(&tm);
}

namespace {
std::vector<Instance> describe_pages(AwsClient& client,
                                     const std::vector<std::pair<std::string, std::string>>& base) {
  std::vector<Instance> out;
  std::string token;
  do {
    auto params = base;
    if (!token.empty()) params.emplace_back("NextToken", token);
    const XmlNode root = client.query(Service::Ec2, "DescribeInstances", params);
    if (const XmlNode* set = root.child("reservationSet"))
      for (const XmlNode* r : set->all("item"))
        if (const XmlNode* instances = r->child("instancesSet"))
          for (const XmlNode* item : instances->all("item")) out.push_back(parse_instance(*item));
    token = root.child_text("nextToken");
  } while (!token.empty());
  return out;
}
}  // namespace

std::vector<Instance> describe_instances(AwsClient& client, bool all) {
  std::vector<std::pair<std::string, std::string>> params;
  if (!all) {
    params = {{"Filter.1.Name", "tag-key"},
              {"Filter.1.Value.1", kManagedTag},
              {"Filter.2.Name", "instance-state-name"}};
    int i = 1;
    for (const char* s : {"pending", "running", "shutting-down", "stopping", "stopped"})
      params.emplace_back("Filter.2.Value." + std::to_string(i++), s);
  }
  return describe_pages(client, params);
}

std::vector<Instance> describe_instances_by_id(AwsClient& client,
                                               const std::vector<std::string>& ids) {
  std::vector<std::pair<std::string, std::string>> params;
  for (std::size_t i = 0; i < ids.size(); ++i)
    params.emplace_back("InstanceId." + std::to_string(i + 1), ids[i]);
  return describe_pages(client, params);
}

const Instance& find_instance(const std::vector<Instance>& instances,
                              const std::string& id_or_name) {
  for (const auto& in : instances)
    if (in.id == id_or_name) return in;
  std::vector<const Instance*> named;
  for (const auto& in : instances)
    if (!in.name.empty() && in.name == id_or_name && in.state != InstanceState::Terminated)
      named.push_back(&in);
  if (named.size() == 1) return *named[0];
  if (named.empty())
    throw bad_input("cloud: no instance '" + id_or_name +
                    "' (by id or Name tag) in this region: `d2l cloud list --all` shows them");
  std::string ids;
  for (const auto* in : named) ids += (ids.empty() ? "" : ", ") + in->id;
  throw bad_input("cloud: several instances are named '" + id_or_name + "' (" + ids +
                  "): give the id");
}

std::string action_name(InstanceAction action) {
  switch (action) {
    case InstanceAction::Stop:
      return "StopInstances";
    case InstanceAction::Start:
      return "StartInstances";
    case InstanceAction::Terminate:
      return "TerminateInstances";
  }
  return "StopInstances";
}

std::vector<StateChange> change_instances(AwsClient& client, InstanceAction action,
                                          const std::vector<std::string>& ids) {
  std::vector<std::pair<std::string, std::string>> params;
  for (std::size_t i = 0; i < ids.size(); ++i)
    params.emplace_back("InstanceId." + std::to_string(i + 1), ids[i]);
  const XmlNode root = client.query(Service::Ec2, action_name(action), params);
  std::vector<StateChange> out;
  if (const XmlNode* set = root.child("instancesSet"))
    for (const XmlNode* item : set->all("item")) {
      StateChange c;
      c.id = item->child_text("instanceId");
      if (const XmlNode* p = item->path({"previousState", "name"}))
        c.previous = parse_state(p->text);
      if (const XmlNode* p = item->path({"currentState", "name"})) c.current = parse_state(p->text);
      out.push_back(c);
    }
  return out;
}

std::optional<double> volume_price_per_gb_month(const std::string& type) {
  static const std::pair<const char*, double> kPrices[] = {
      {"gp3", 0.08},  {"gp2", 0.10},  {"io1", 0.125},    {"io2", 0.125},
      {"st1", 0.045}, {"sc1", 0.015}, {"standard", 0.05}};
  for (const auto& [name, price] : kPrices)
    if (type == name) return price;
  return std::nullopt;
}

void attach_volumes(AwsClient& client, std::vector<Instance>& instances) {
  if (instances.empty()) return;
  std::vector<std::pair<std::string, std::string>> params = {
      {"Filter.1.Name", "attachment.instance-id"}};
  for (std::size_t i = 0; i < instances.size(); ++i)
    params.emplace_back("Filter.1.Value." + std::to_string(i + 1), instances[i].id);
  std::string token;
  do {
    auto p = params;
    if (!token.empty()) p.emplace_back("NextToken", token);
    const XmlNode root = client.query(Service::Ec2, "DescribeVolumes", p);
    if (const XmlNode* set = root.child("volumeSet"))
      for (const XmlNode* v : set->all("item")) {
        Volume vol;
        vol.id = v->child_text("volumeId");
        vol.size_gb = std::atoi(v->child_text("size").c_str());
        vol.type = v->child_text("volumeType");
        if (const XmlNode* att = v->child("attachmentSet"))
          for (const XmlNode* a : att->all("item"))
            for (auto& in : instances)
              if (in.id == a->child_text("instanceId")) in.volumes.push_back(vol);
      }
    token = root.child_text("nextToken");
  } while (!token.empty());
}

std::vector<CostedInstance> cost_instances(
    const std::vector<Instance>& instances,
    const std::function<std::optional<double>(const Instance&)>& price_of, std::time_t now,
    const std::function<std::optional<double>(const std::string&)>& volume_price) {
  std::vector<CostedInstance> out;
  for (const auto& in : instances) {
    CostedInstance c;
    c.instance = in;
    for (const auto& v : in.volumes)
      if (const auto p = volume_price ? volume_price(v.type) : volume_price_per_gb_month(v.type))
        c.storage_per_hour += *p * v.size_gb / 730.0;  // AWS bills a month as 730 hours
    const bool billing = in.state == InstanceState::Running || in.state == InstanceState::Pending ||
                         in.state == InstanceState::Stopping;
    if (billing) {
      const auto compute = price_of ? price_of(in) : std::nullopt;
      if (compute) c.price_per_hour = *compute + c.storage_per_hour;
      if (in.launch_time && now > *in.launch_time)
        c.hours = static_cast<double>(now - *in.launch_time) / 3600.0;
    } else if (in.state == InstanceState::Stopped) {
      c.price_per_hour = c.storage_per_hour;
      if (in.stopped_since && now > *in.stopped_since)
        c.hours = static_cast<double>(now - *in.stopped_since) / 3600.0;
    } else {
      c.price_per_hour = 0.0;
      c.storage_per_hour = 0;
    }
    if (c.price_per_hour) c.cost_so_far = *c.price_per_hour * c.hours;
    out.push_back(c);
  }
  return out;
}

}  // namespace d2l::cloud
