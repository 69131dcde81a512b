// `d2l cloud`: EC2 instances from one program: list them with what they cost, stop, start,
// terminate, and stop everything of ours in an emergency (d2l/cloud/).
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "../common/command.h"
#include "cloud_common.h"
#include "d2l/cloud/aws.h"
#include "d2l/cloud/ec2.h"
#include "d2l/cloud/iam.h"
#include "d2l/cloud/launch.h"
#include "d2l/cloud/sagemaker.h"
#include "d2l/cloud/self_stop.h"
#include "d2l/core/duration.h"
#include "d2l/core/error.h"
#include "d2l/core/http.h"
#include "d2l/core/paths.h"
#include "d2l/ops/pricing.h"
#include "flag_checks.h"

namespace {

using nlohmann::json;
using namespace d2l::cloud;

struct Opts {
  std::string region;
  std::string profile;
  bool json = false;
  bool all = false;
  bool yes = false;
  bool force = false;
  std::string target;  // ID or NAME
  // launch
  std::string type;
  bool spot = false;
  int disk_gb = 0;  // 0: the AMI's size
  std::string key;
  std::string ami;
  std::string ami_parameter = kDefaultAmiParameter;
  std::string name;
  std::string ssh_from;
  std::string security_group = "d2l-ssh";
  bool no_wait = false;
  bool cleanup = false;
  std::string autostop;  // "" = no self-stop
  bool autostop_terminate = false;
  // ssh, pull
  std::string user = "ubuntu";
  bool print = false;
  std::string remote, local;
  // notebook
  std::string nb_type = "ml.t3.medium";
  std::string role;
  std::string lifecycle;
  std::optional<int> volume_gb;
};

std::string money(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, v < 10 ? "$%.4f" : "$%.2f", v);
  return buf;
}

// The region is checked before credentials are looked for, so bad input costs no request.
AwsClient make_client(const Opts& o) { return d2l::cli::make_aws_client(o.region, o.profile); }

// Hourly on-demand prices from `d2l cost`'s catalogue (the prices `d2l cost update` fetched
// when there are some): the region's row, else any region's.
struct Prices {
  std::shared_ptr<const d2l::ops::Catalog> catalog;
  std::string region;
  std::optional<double> operator()(const std::string& type) const {
    for (const auto& offer : catalog->offers())
      if (offer.instance_type == type && offer.region == region) return offer.price;
    for (const auto& offer : catalog->offers())
      if (offer.instance_type == type) return offer.price;
    return std::nullopt;
  }
  // USD per GB-month of an EBS volume type: fetched for the region, else us-east-1's.
  std::optional<double> volume(const std::string& type) const {
    if (const auto p = catalog->volume_price(region, type)) return p;
    return volume_price_per_gb_month(type);
  }
};
Prices price_lookup(const std::string& region) {
  return {std::make_shared<const d2l::ops::Catalog>(d2l::cli::load_catalog()), region};
}

std::string describe(const Instance& in) {
  std::string s = in.id;
  if (!in.name.empty()) s += " (" + in.name + ")";
  return s + ", " + in.type + ", " + state_name(in.state);
}

// Where d2l keeps the private key of key pair `name`: ~/.ssh/NAME.pem.
std::string key_file_for(const std::string& name) {
  const char* home = std::getenv("HOME");
  if (!home || !*home) throw d2l::Error("cloud: HOME is not set: nowhere to keep SSH keys");
  return std::string(home) + "/.ssh/" + name + ".pem";
}

// Asks on the terminal; anything but y/yes (or end of input) is no.
bool confirm(const std::string& question) {
  std::cout << question << " [y/N] " << std::flush;
  std::string line;
  if (!std::getline(std::cin, line)) {
    std::cout << "\n";
    return false;
  }
  return line == "y" || line == "Y" || line == "yes" || line == "YES";
}

int run_list(const Opts& o) {
  AwsClient client = make_client(o);
  auto instances = describe_instances(client, o.all);
  attach_volumes(client, instances);
  const Prices on_demand = price_lookup(client.region());
  // Spot instances pay the spot price of their zone (one DescribeSpotPriceHistory for all).
  std::vector<std::string> spot_types;
  for (const auto& in : instances)
    if (in.spot && in.state == InstanceState::Running &&
        std::find(spot_types.begin(), spot_types.end(), in.type) == spot_types.end())
      spot_types.push_back(in.type);
  auto spot = latest_spot_prices(client, spot_types, std::time(nullptr));
  const auto price_of = [&](const Instance& in) -> std::optional<double> {
    if (in.spot && spot.count(in.type))
      for (const auto& p : spot[in.type])
        if (p.availability_zone == in.availability_zone) return p.price;
    return on_demand(in.type);
  };
  const auto rows = cost_instances(instances, price_of, std::time(nullptr),
                                   [&](const std::string& t) { return on_demand.volume(t); });
  double per_hour = 0, so_far = 0;
  int running = 0;
  bool unknown_price = false;
  for (const auto& r : rows) {
    const InstanceState st = r.instance.state;
    if (st == InstanceState::Running || st == InstanceState::Pending) ++running;
    if (r.price_per_hour)
      per_hour += *r.price_per_hour;
    else
      unknown_price = true;
    if (r.cost_so_far) so_far += *r.cost_so_far;
  }
  if (o.json) {
    json arr = json::array();
    for (const auto& r : rows) {
      const Instance& in = r.instance;
      int disk_gb = 0;
      for (const auto& v : in.volumes) disk_gb += v.size_gb;
      arr.push_back({{"id", in.id},
                     {"name", in.name},
                     {"type", in.type},
                     {"state", state_name(in.state)},
                     {"hours_in_state", r.hours},
                     {"public_ip", in.public_ip.empty() ? json(nullptr) : json(in.public_ip)},
                     {"availability_zone", in.availability_zone},
                     {"spot", in.spot},
                     {"managed", in.managed()},
                     {"volumes_gb", disk_gb},
                     {"storage_per_hour", r.storage_per_hour},
                     {"price_per_hour", r.price_per_hour ? json(*r.price_per_hour) : json(nullptr)},
                     {"cost_so_far", r.cost_so_far ? json(*r.cost_so_far) : json(nullptr)},
                     {"price_catalogue", on_demand.catalog->describe()}});
    }
    std::cout << arr.dump(2) << "\n";
    return 0;
  }
  if (rows.empty()) {
    std::cout << "No " << (o.all ? "" : "d2l-managed ") << "instances in " << client.region()
              << (o.all ? "" : " (--all shows every instance)") << ".\n";
    return 0;
  }
  std::printf("%-20s %-16s %-14s %-13s %-9s %-15s %9s %9s\n", "ID", "NAME", "TYPE", "STATE", "FOR",
              "ADDRESS", "$/HOUR", "COST");
  for (const auto& r : rows) {
    const Instance& in = r.instance;
    std::printf("%-20s %-16s %-14s %-13s %-9s %-15s %9s %9s\n", in.id.c_str(),
                (in.name.empty() ? "-" : in.name).c_str(), in.type.c_str(),
                state_name(in.state).c_str(),
                r.hours > 0 ? d2l::format_duration(r.hours * 3600).c_str() : "-",
                (in.public_ip.empty() ? "-" : in.public_ip).c_str(),
                r.price_per_hour ? money(*r.price_per_hour).c_str() : "?",
                r.cost_so_far ? money(*r.cost_so_far).c_str() : "?");
  }
  std::printf(
      "Total: %zu instance%s, %d running, %s/hour now%s, %s so far (running: since each "
      "last start, with volumes; stopped: their volumes since they stopped)\n",
      rows.size(), rows.size() == 1 ? "" : "s", running, money(per_hour).c_str(),
      unknown_price ? " (plus types the catalogue lacks)" : "", money(so_far).c_str());
  std::printf("Prices: %s\n", on_demand.catalog->describe().c_str());
  return 0;
}

int run_change(const Opts& o, InstanceAction action) {
  AwsClient client = make_client(o);
  const auto instances = describe_instances(client, true);
  const Instance& in = find_instance(instances, o.target);
  const char* verb = action == InstanceAction::Stop    ? "stop"
                     : action == InstanceAction::Start ? "start"
                                                       : "terminate";
  if (!in.managed() && !o.force)
    throw d2l::bad_input("cloud: " + in.id + " is not tagged " + kManagedTag +
                         " (d2l did not create it): pass --force to " + verb + " it anyway");
  std::string plan = std::string("Will ") + verb + " " + describe(in) + " in " + client.region();
  if (action == InstanceAction::Terminate)
    plan += ": the instance and its root volume are deleted for good";
  else if (action == InstanceAction::Stop)
    plan += ": compute billing stops; its volumes still bill";
  std::cout << plan << ".\n";
  if (action == InstanceAction::Terminate && !o.yes && !confirm("Terminate " + in.id + "?")) {
    std::cout << "Not terminated (answer y, or pass --yes).\n";
    return 1;
  }
  for (const auto& c : change_instances(client, action, {in.id}))
    std::cout << c.id << ": " << state_name(c.previous) << " -> " << state_name(c.current) << "\n";
  if (action != InstanceAction::Terminate) return 0;
  // Our key pair and security group, once nothing else uses them.
  const Leftovers left = find_leftovers(client, in);
  if (left.empty()) return 0;
  std::string what;
  if (!left.key_name.empty())
    what = "key pair " + left.key_name + " (and " + key_file_for(left.key_name) + ")";
  for (const auto& g : left.security_groups)
    what += (what.empty() ? "" : ", ") + std::string("security group ") + g;
  std::cout << "Nothing else uses our " << what << ".\n";
  if (!o.cleanup && (o.yes || !confirm("Delete them too?"))) {
    std::cout << "Kept them (--cleanup deletes them with the last instance).\n";
    return 0;
  }
  if (!left.security_groups.empty()) {
    std::cout << "Waiting until " << in.id << " is terminated (a security group in use cannot "
              << "be deleted)...\n";
    wait_state(client, in.id, InstanceState::Terminated, 600, 5);
  }
  delete_leftovers(client, left, left.key_name.empty() ? "" : key_file_for(left.key_name));
  std::cout << "Deleted " << what << ".\n";
  return 0;
}

// The instance to reach over SSH: running, with a public address and its key file here.
struct SshTarget {
  std::string key_file, host;
};
SshTarget ssh_target(const Opts& o) {
  AwsClient client = make_client(o);
  const auto instances = describe_instances(client, true);
  const Instance& in = find_instance(instances, o.target);
  if (in.state != InstanceState::Running)
    throw d2l::Error("cloud: " + describe(in) + ": not running (`d2l cloud start " + in.id + "`)");
  if (in.public_ip.empty()) throw d2l::Error("cloud: " + in.id + " has no public address");
  if (in.key_name.empty()) throw d2l::Error("cloud: " + in.id + " was launched without a key pair");
  const std::string key = key_file_for(in.key_name);
  if (!d2l::path_exists(key))
    throw d2l::Error("cloud: " + in.id + "'s key " + key + " is not on this machine");
  return {key, o.user + "@" + in.public_ip};
}

[[noreturn]] void exec_program(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::cout.flush();
  ::execvp(args[0], args.data());
  std::fprintf(stderr, "d2l: cloud: cannot run %s: %s\n", args[0], std::strerror(errno));
  std::exit(1);
}

int run_ssh(const Opts& o) {
  const SshTarget t = ssh_target(o);
  std::vector<std::string> argv = {
      "ssh", "-i", t.key_file, "-o", "StrictHostKeyChecking=accept-new", t.host};
  if (o.print) {
    for (const auto& a : argv) std::cout << (&a == &argv.front() ? "" : " ") << a;
    std::cout << "\n";
    return 0;
  }
  exec_program(argv);
}

int run_pull(const Opts& o) {
  if (o.remote.empty() || o.remote[0] == '-')
    throw d2l::bad_input("cloud: pull: the remote path '" + o.remote +
                         "' must not be empty or start with '-'");
  if (!o.local.empty() && o.local[0] == '-')
    throw d2l::bad_input("cloud: pull: the local path '" + o.local + "' must not start with '-'");
  const SshTarget t = ssh_target(o);
  exec_program({"scp", "-r", "-i", t.key_file, "-o", "StrictHostKeyChecking=accept-new",
                t.host + ":" + o.remote, o.local.empty() ? "." : o.local});
}

std::string read_text_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw d2l::bad_input(std::string("cloud: ") + what + ": cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void print_notebook(const NotebookInstance& n,
                    const std::function<std::optional<double>(const std::string&)>& price_of) {
  const auto price = price_of(n.instance_type);
  std::cout << n.name << ": " << n.status << ", " << n.instance_type << " ("
            << (price ? money(*price) + "/hour while InService" : std::string("price unknown"))
            << ")";
  if (n.volume_gb) std::cout << ", " << *n.volume_gb << " GiB";
  if (!n.lifecycle_config.empty()) std::cout << ", on start: " << n.lifecycle_config;
  if (!n.failure_reason.empty()) std::cout << ", failed: " << n.failure_reason;
  std::cout << "\n";
}

// --- the notebook's IAM role (d2l/cloud/iam.h) ---
// The role to run as without --role: ours, found by name; nullopt when it is still to be made.
std::optional<IamRole> find_notebook_role(AwsClient& client) {
  auto role = get_role(client, kNotebookRoleName);
  if (role && !role->trusts("sagemaker.amazonaws.com"))
    throw d2l::Error(std::string("cloud: IAM role ") + kNotebookRoleName +
                     " exists but does not trust sagemaker.amazonaws.com, so SageMaker cannot "
                     "run a notebook as it: pass --role ARN of a role that does");
  return role;
}

// After a notebook instance is deleted: offers to delete our role once none in this region (nor
// where the role was last used) runs as it, as terminate does for the key pair.
void offer_role_cleanup(const Opts& o, AwsClient& client, const NotebookInstance& gone) {
  if (gone.role_arn.empty() || role_name_of(gone.role_arn) != kNotebookRoleName) return;
  const auto role = get_role(client, kNotebookRoleName);
  if (!role || !role->managed() || role->arn != gone.role_arn) return;
  std::vector<std::string> users = notebooks_using_role(client, role->arn, gone.name);
  std::string where = client.region();
  if (users.empty() && !role->last_used_region.empty() &&
      role->last_used_region != client.region()) {
    check_region(role->last_used_region);
    AwsClient there = d2l::cli::make_aws_client(role->last_used_region, o.profile);
    users = notebooks_using_role(there, role->arn);
    where += " and " + role->last_used_region;
  }
  if (!users.empty()) {
    std::cout << "IAM role " << kNotebookRoleName << " is kept: notebook instance " << users[0]
              << (users.size() > 1 ? " and others use it" : " uses it") << ".\n";
    return;
  }
  std::cout << "No notebook instance in " << where << " uses IAM role " << kNotebookRoleName
            << " now (d2l made it; it may still serve notebooks in other regions).\n";
  if (!o.cleanup && (o.yes || !confirm("Delete it too?"))) {
    std::cout << "Kept it (--cleanup deletes it with the last notebook instance).\n";
    return;
  }
  delete_role(client, kNotebookRoleName);
  std::cout << "Deleted IAM role " << kNotebookRoleName << ".\n";
}
// --- end of the notebook's IAM role ---

int run_notebook_create(const Opts& o) {
  NotebookRequest r;
  r.name = o.target;
  r.instance_type = o.nb_type;
  r.role_arn = o.role;
  r.volume_gb = o.volume_gb;
  if (!o.lifecycle.empty()) r.on_start = read_text_file(o.lifecycle, "--lifecycle");
  check_notebook_name(r.name);
  check_notebook_type(r.instance_type);
  if (!o.role.empty()) check_role_arn(o.role);
  AwsClient client = make_client(o);
  const auto price = price_lookup(client.region())(r.instance_type);
  bool make_role = false;
  if (r.role_arn.empty()) {
    if (const auto role = find_notebook_role(client))
      r.role_arn = role->arn;
    else
      make_role = true;
  }
  std::cout << "Will create SageMaker notebook instance " << r.name << " (" << r.instance_type
            << ", " << (price ? money(*price) + "/hour" : std::string("price not in the catalogue"))
            << " while InService) in " << client.region()
            << (make_role ? std::string(" with a new IAM role ") + kNotebookRoleName +
                                " (SageMaker may assume it; AWS managed policy " +
                                kNotebookRolePolicy + "; tagged " + kManagedTag + ")"
                          : " with role " + r.role_arn)
            << (o.lifecycle.empty() ? "" : ", on-start script " + o.lifecycle) << ".\n";
  if (!o.yes && !confirm("Create it?")) {
    std::cout << "Nothing created (answer y, or pass --yes).\n";
    return 1;
  }
  if (make_role) {
    const IamRole role = create_notebook_role(client);
    r.role_arn = role.arn;
    r.role_wait_s = 60;  // IAM takes a few seconds to show a new role to SageMaker
    std::cout << "Created IAM role " << kNotebookRoleName << " (" << role.arn
              << "): SageMaker may assume it, with " << kNotebookRolePolicy
              << "; `d2l cloud notebook delete` offers to remove it once no notebook uses it.\n";
  }
  try {
    create_notebook(client, r);
  } catch (const AwsError& e) {
    // SageMaker checks that the caller may hand the role over (iam:PassRole).
    if (std::string(e.what()).find("iam:PassRole") == std::string::npos) throw;
    throw d2l::Error("aws sagemaker CreateNotebookInstance: " + e.code() + ": " +
                     client.credentials_source() + " lacks the permission iam:PassRole on " +
                     r.role_arn + ": add it to the identity's policy");
  }
  std::cout << "Created " << r.name << ": it starts now (Pending, then InService); "
            << "`d2l cloud notebook url " << r.name << "` opens it, `d2l cloud notebook stop "
            << r.name << "` stops the billing.\n";
  return 0;
}

int run_notebook(const Opts& o, const std::string& what) {
  if (!o.target.empty()) check_notebook_name(o.target);
  AwsClient client = make_client(o);
  const auto price_of = price_lookup(client.region());
  if (what == "status") {
    if (!o.target.empty()) {
      print_notebook(describe_notebook(client, o.target), price_of);
      return 0;
    }
    const auto all = list_notebooks(client);
    if (all.empty()) std::cout << "No notebook instances in " << client.region() << ".\n";
    for (const auto& n : all) print_notebook(n, price_of);
    return 0;
  }
  if (what == "url") {
    std::cout << notebook_url(client, o.target) << "\n";
    return 0;
  }
  const NotebookInstance n = describe_notebook(client, o.target);
  if (what == "delete") {
    if (n.status != "Stopped" && n.status != "Failed")
      throw d2l::Error("cloud: " + n.name + " is " + n.status +
                       ": stop it first (`d2l cloud notebook stop " + n.name + "`)");
    std::cout << "Will delete notebook instance " << n.name
              << " and its storage volume (its notebooks and data) for good.\n";
    if (!o.yes && !confirm("Delete " + n.name + "?")) {
      std::cout << "Not deleted (answer y, or pass --yes).\n";
      return 1;
    }
    change_notebook(client, n.name, NotebookAction::Delete);
    std::cout << n.name << ": " << n.status << " -> Deleting\n";
    offer_role_cleanup(o, client, n);
    return 0;
  }
  const bool start = what == "start";
  change_notebook(client, n.name, start ? NotebookAction::Start : NotebookAction::Stop);
  std::cout << n.name << ": " << n.status << " -> " << (start ? "Pending" : "Stopping") << "\n";
  return 0;
}

int run_stop_all(const Opts& o) {
  AwsClient client = make_client(o);
  std::vector<std::string> ids;
  std::vector<Instance> running;
  for (const auto& in : describe_instances(client, false))
    if (in.state == InstanceState::Running || in.state == InstanceState::Pending)
      running.push_back(in);
  if (running.empty()) {
    std::cout << "No running d2l-managed instances in " << client.region() << ".\n";
    return 0;
  }
  std::cout << "Will stop " << running.size() << " running d2l-managed instance"
            << (running.size() == 1 ? "" : "s") << " in " << client.region() << ":\n";
  for (const auto& in : running) {
    std::cout << "  " << describe(in) << "\n";
    ids.push_back(in.id);
  }
  if (!o.yes && !confirm("Stop them all?")) {
    std::cout << "Nothing stopped (answer y, or pass --yes).\n";
    return 1;
  }
  for (const auto& c : change_instances(client, InstanceAction::Stop, ids))
    std::cout << c.id << ": " << state_name(c.previous) << " -> " << state_name(c.current) << "\n";
  return 0;
}

// The caller's public address as a /32, from AWS's own what-is-my-address service.
std::string caller_cidr() {
  std::string ip;
  try {
    d2l::HttpOptions o;
    o.timeout_s = 10;
    d2l::HttpClient http(o);
    const auto r = http.request("GET", "https://checkip.amazonaws.com/");
    if (r.status == 200) ip = r.body;
  } catch (const d2l::Error&) {
  }
  while (!ip.empty() && (ip.back() == '\n' || ip.back() == '\r' || ip.back() == ' ')) ip.pop_back();
  try {
    check_cidr(ip + "/32");
  } catch (const d2l::Error&) {
    throw d2l::Error(
        "cloud: cannot find this machine's public address (checkip.amazonaws.com): "
        "pass --ssh-from CIDR");
  }
  return ip + "/32";
}

int run_launch(const Opts& o) {
  // Everything that can be checked without AWS is checked first.
  if (!o.ssh_from.empty()) check_cidr(o.ssh_from);
  std::string user_data, behavior;
  double idle_s = 0;
  if (!o.autostop.empty()) {
    idle_s = d2l::parse_duration(o.autostop);
    user_data = self_stop_user_data(idle_s);
    // A one-time spot instance cannot stop: its shutdown terminates it.
    behavior = o.spot || o.autostop_terminate ? "terminate" : "stop";
  } else if (o.autostop_terminate) {
    throw d2l::bad_input("cloud: --autostop-terminate needs --autostop DURATION");
  }
  AwsClient client = make_client(o);
  const auto price_of = price_lookup(client.region());
  const std::optional<double> price = price_of(o.type);
  if (!price && !instance_type_exists(client, o.type))
    throw d2l::bad_input("cloud: '" + o.type + "' is not an instance type in " + client.region() +
                         " (`d2l cost list` shows the catalogue's)");
  const std::string ami = !o.ami.empty() ? o.ami : ssm_get_parameter(client, o.ami_parameter);
  const std::string cidr = o.ssh_from.empty() ? caller_cidr() : o.ssh_from;
  const std::string key_name = o.key.empty() ? "d2l-" + client.region() : o.key;
  const std::string key_file = key_file_for(key_name);
  std::cout << "Will launch " << (o.spot ? "a spot " : "an on-demand ") << o.type << " in "
            << client.region() << " ("
            << (price ? money(*price) + "/hour on demand"
                      : std::string("price not in the catalogue"))
            << ")" << (o.name.empty() ? "" : " named " + o.name) << "\n  image " << ami
            << (o.ami.empty() ? " (" + o.ami_parameter + ")" : "") << "\n  key pair " << key_name
            << " (" << key_file << ")\n  security group " << o.security_group << ": SSH from "
            << cidr << " only\n";
  if (o.disk_gb > 0) std::cout << "  root volume " << o.disk_gb << " GiB (gp3)\n";
  std::cout << "  prices: " << price_of.catalog->describe() << "\n";
  if (!user_data.empty())
    std::cout << "  self-stop: shuts down after " << d2l::format_duration(idle_s)
              << " idle (GPU, SSH, d2l train, load), which "
              << (behavior == "stop" ? "stops" : "terminates") << " it\n";
  if (o.spot) {
    const auto prices = spot_prices(client, o.type, std::time(nullptr));
    if (prices.empty()) {
      std::cout << "  spot price: none offered in " << client.region() << " now\n";
    } else {
      std::cout << "  spot price now: " << money(prices.front().price) << "/hour in "
                << prices.front().availability_zone;
      if (prices.size() > 1)
        std::cout << " (up to " << money(prices.back().price) << " in "
                  << prices.back().availability_zone << ")";
      std::cout << "\n";
    }
  }
  if (o.spot)
    std::cout << "A spot instance can be interrupted with two minutes' notice and is then "
                 "terminated: train with checkpoints and continue with `d2l train --resume`.\n";
  if (!o.yes && !confirm("Launch it?")) {
    std::cout << "Nothing launched (answer y, or pass --yes).\n";
    return 1;
  }
  if (ensure_key_pair(client, key_name, key_file))
    std::cout << "Created key pair " << key_name << ": " << key_file << " (0600)\n";
  LaunchRequest r;
  r.instance_type = o.type;
  r.image_id = ami;
  r.key_name = key_name;
  r.security_group_id = ensure_security_group(client, o.security_group, cidr);
  r.name = o.name;
  r.disk_gb = o.disk_gb;
  r.spot = o.spot;
  r.client_token = new_client_token();
  r.user_data = user_data;
  r.shutdown_behavior = behavior;
  const Instance launched = run_instance(client, r);
  std::cout << "Launched " << launched.id << " (" << state_name(launched.state) << ")\n";
  if (o.no_wait) return 0;
  const Instance in = wait_running(client, launched.id, 600, 5);
  std::cout << in.id << " is running";
  if (in.public_ip.empty()) {
    std::cout << " without a public address (a subnet without one?)\n";
    return 0;
  }
  std::cout << " at " << in.public_ip << "\n  ssh -i " << key_file << " ubuntu@" << in.public_ip
            << "\n  d2l notebook tunnel " << in.public_ip << " --user ubuntu --key " << key_file
            << "\nStop it when done: d2l cloud stop " << in.id << "\n";
  return 0;
}

void common(CLI::App* sub, const std::shared_ptr<Opts>& o) {
  d2l::cli::add_aws_options(sub, o->region, o->profile);
}

d2l::cli::Registrar reg{
    "cloud",
    "AWS EC2 instances: launch, list with costs, ssh, pull, stop, start, terminate, stop-all",
    [](CLI::App& cmd) {
      auto o = std::make_shared<Opts>();
      cmd.require_subcommand(1);
      cmd.footer(
          "Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN], then the "
          "profile (keys or credential_process), then the instance role (IMDSv2). Endpoints: "
          "AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_EC2. Exit codes: 0 ok, 1 failure or declined, 2 "
          "usage or bad input, 130 interrupted. See docs/cloud.md.");
      auto* launch = cmd.add_subcommand(
          "launch", "Launch a GPU instance from the Deep Learning AMI (asks first unless --yes)");
      common(launch, o);
      launch->add_option("type", o->type, "Instance type, e.g. g4dn.xlarge")
          ->required()
          ->check(d2l::cli::non_empty());
      launch->add_flag("--spot", o->spot, "A spot instance (cheaper; may be interrupted)");
      launch->add_option("--disk", o->disk_gb, "Root volume in GiB (default: the AMI's)")
          ->check(d2l::cli::number_in(8, 16384));
      launch->add_option("--key", o->key, "EC2 key pair (default d2l-REGION, made once)")
          ->check(d2l::cli::non_empty());
      launch->add_option("--ami", o->ami, "Image id (default: the latest Deep Learning AMI)")
          ->check(d2l::cli::non_empty());
      launch
          ->add_option("--ami-parameter", o->ami_parameter,
                       "SSM parameter naming the image (default: the Deep Learning AMI's)")
          ->check(d2l::cli::non_empty());
      launch->add_option("--name", o->name, "Name tag")->check(d2l::cli::non_empty());
      launch->add_option("--ssh-from", o->ssh_from,
                         "CIDR allowed to SSH in (default: this machine's public address /32)");
      launch
          ->add_option("--security-group", o->security_group,
                       "Security group name (default d2l-ssh, made once)")
          ->check(d2l::cli::non_empty());
      launch->add_flag("--yes", o->yes, "Do not ask");
      launch->add_flag("--no-wait", o->no_wait, "Do not wait until it runs");
      launch
          ->add_option("--autostop", o->autostop,
                       "Shut down after this long idle (e.g. 2h; 10m to 30d): stops it")
          ->check(d2l::cli::non_empty());
      launch->add_flag("--autostop-terminate", o->autostop_terminate,
                       "With --autostop: terminate instead of stop (always so for --spot)");
      auto* nb = cmd.add_subcommand("notebook", "SageMaker notebook instances");
      nb->require_subcommand(1);
      auto nb_sub = [&](const char* name, const char* summary, bool named) {
        auto* sub = nb->add_subcommand(name, summary);
        common(sub, o);
        auto* opt = sub->add_option("name", o->target, "Notebook instance name");
        if (named) opt->required();
        return sub;
      };
      auto* nb_create =
          nb_sub("create", "Create a notebook instance (asks first unless --yes)", true);
      nb_create->add_option("--type", o->nb_type, "Instance type (default ml.t3.medium)")
          ->check(d2l::cli::non_empty());
      nb_create->add_option(
          "--role", o->role,
          "IAM role ARN SageMaker assumes for it (default: d2l-sagemaker-notebook, "
          "made once with AmazonSageMakerFullAccess)");
      nb_create
          ->add_option("--lifecycle", o->lifecycle, "On-start script (shell), run at each start")
          ->check(d2l::cli::non_empty());
      nb_create->add_option("--volume", o->volume_gb, "Storage volume in GiB (5 to 16384)")
          ->check(d2l::cli::number_in(5, 16384));
      nb_create->add_flag("--yes", o->yes, "Do not ask");
      auto* nb_start = nb_sub("start", "Start a stopped notebook instance", true);
      auto* nb_stop = nb_sub("stop", "Stop it (the billing of its instance stops)", true);
      auto* nb_status =
          nb_sub("status", "Its state, type and price (all of them without NAME)", false);
      auto* nb_url = nb_sub("url", "A presigned URL that opens its Jupyter", true);
      auto* nb_delete =
          nb_sub("delete", "Delete a stopped notebook instance (asks unless --yes)", true);
      nb_delete->add_flag("--yes", o->yes,
                          "Do not ask (and keep the IAM role d2l made for notebooks)");
      nb_delete->add_flag("--cleanup", o->cleanup,
                          "Also delete the IAM role d2l made when no notebook instance uses it");
      auto* list = cmd.add_subcommand(
          "list", "Instances of ours (tagged d2l:managed): type, state, uptime, price, cost");
      common(list, o);
      list->add_flag("--all", o->all, "Every instance in the region, terminated ones too");
      list->add_flag("--json", o->json, "Machine-readable output (an array of objects)");
      auto add_change = [&](const char* name, const char* summary) {
        auto* sub = cmd.add_subcommand(name, summary);
        common(sub, o);
        sub->add_option("instance", o->target, "Instance id (i-...) or Name tag")
            ->required()
            ->check(d2l::cli::non_empty());
        sub->add_flag("--force", o->force, "Act on an instance d2l did not create");
        return sub;
      };
      auto* stop = add_change("stop", "Stop an instance (its volumes still bill)");
      auto* start = add_change("start", "Start a stopped instance");
      auto* term = add_change("terminate", "Terminate an instance (asks first unless --yes)");
      term->add_flag("--yes", o->yes, "Do not ask (and keep our key pair and security group)");
      term->add_flag("--cleanup", o->cleanup,
                     "Also delete our key pair and security group when nothing else uses them");
      auto* ssh = add_change("ssh", "SSH into a running instance with its key");
      ssh->add_option("--user", o->user, "Remote user (default ubuntu)")
          ->check(d2l::cli::non_empty());
      ssh->add_flag("--print", o->print, "Print the ssh command instead of running it");
      auto* pull = add_change("pull", "Copy REMOTE (a run folder) back over SSH into LOCAL");
      pull->add_option("remote", o->remote, "Path on the instance")->required();
      pull->add_option("local", o->local, "Where to put it (default .)");
      pull->add_option("--user", o->user, "Remote user (default ubuntu)")
          ->check(d2l::cli::non_empty());
      auto* stop_all =
          cmd.add_subcommand("stop-all", "Emergency stop: every running instance of ours");
      common(stop_all, o);
      stop_all->add_flag("--yes", o->yes, "Do not ask");
      return [o, launch, list, stop, start, term, ssh, pull, stop_all, nb_create, nb_start, nb_stop,
              nb_status, nb_url, nb_delete]() -> int {
        if (nb_create->parsed()) return run_notebook_create(*o);
        if (nb_start->parsed()) return run_notebook(*o, "start");
        if (nb_stop->parsed()) return run_notebook(*o, "stop");
        if (nb_status->parsed()) return run_notebook(*o, "status");
        if (nb_url->parsed()) return run_notebook(*o, "url");
        if (nb_delete->parsed()) return run_notebook(*o, "delete");
        if (ssh->parsed()) return run_ssh(*o);
        if (pull->parsed()) return run_pull(*o);
        if (launch->parsed()) return run_launch(*o);
        if (list->parsed()) return run_list(*o);
        if (stop->parsed()) return run_change(*o, InstanceAction::Stop);
        if (start->parsed()) return run_change(*o, InstanceAction::Start);
        if (term->parsed()) return run_change(*o, InstanceAction::Terminate);
        if (stop_all->parsed()) return run_stop_all(*o);
        return 2;
      };
    }};

}  // namespace
