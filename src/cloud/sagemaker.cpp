// SageMaker notebook instances over the JSON protocol (see d2l/cloud/sagemaker.h).
#include "d2l/cloud/sagemaker.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "d2l/cloud/ec2.h"
#include "d2l/cloud/iam.h"

namespace d2l::cloud {

namespace {
using nlohmann::json;

json call(AwsClient& client, const std::string& action, const json& body) {
  const std::string reply = client.json(Service::SageMaker, "SageMaker." + action, body.dump());
  if (reply.empty()) return json::object();
  try {
    return json::parse(reply);
  } catch (const std::exception&) {
    throw Error("aws sagemaker " + action + ": the reply is not JSON");
  }
}

std::string str(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

NotebookInstance from_json(const json& j) {
  NotebookInstance n;
  n.name = str(j, "NotebookInstanceName");
  n.status = str(j, "NotebookInstanceStatus");
  n.instance_type = str(j, "InstanceType");
  n.url = str(j, "Url");
  n.failure_reason = str(j, "FailureReason");
  n.lifecycle_config = str(j, "NotebookInstanceLifecycleConfigName");
  n.role_arn = str(j, "RoleArn");
  if (j.contains("VolumeSizeInGB") && j["VolumeSizeInGB"].is_number_integer())
    n.volume_gb = j["VolumeSizeInGB"].get<int>();
  return n;
}
}  // namespace

void check_notebook_name(const std::string& name) {
  static const std::regex shape("[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}");
  if (!std::regex_match(name, shape))
    throw bad_input("cloud: '" + name +
                    "' is not a notebook instance name (letters, digits and hyphens, at most 63, "
                    "starting and ending with a letter or digit)");
}

void check_notebook_type(const std::string& type) {
  static const std::regex shape("ml\\.[a-z][a-z0-9-]*\\.[0-9]*x?(large|medium|small|xlarge)");
  if (!std::regex_match(type, shape))
    throw bad_input("cloud: '" + type +
                    "' is not a SageMaker notebook type (like ml.t3.medium or ml.g4dn.xlarge)");
}

void create_notebook(AwsClient& client, const NotebookRequest& r) {
  check_notebook_name(r.name);
  check_notebook_type(r.instance_type);
  check_role_arn(r.role_arn);
  if (r.volume_gb && (*r.volume_gb < 5 || *r.volume_gb > 16384))
    throw bad_input("cloud: --volume: " + std::to_string(*r.volume_gb) +
                    " GiB is outside SageMaker's 5 to 16384");
  const std::string script = r.on_start.empty() ? "" : base64(r.on_start);
  if (script.size() > 16384)
    throw bad_input("cloud: the lifecycle script is " + std::to_string(r.on_start.size()) +
                    " bytes: SageMaker takes at most 16384 characters of base64 (about 12 KB)");
  const json tags = json::array({{{"Key", kManagedTag}, {"Value", "1"}}});
  json body = {{"NotebookInstanceName", r.name},
               {"InstanceType", r.instance_type},
               {"RoleArn", r.role_arn},
               {"Tags", tags}};
  if (r.volume_gb) body["VolumeSizeInGB"] = *r.volume_gb;
  if (!script.empty()) {
    const std::string config = r.name + "-on-start";
    call(client, "CreateNotebookInstanceLifecycleConfig",
         {{"NotebookInstanceLifecycleConfigName", config},
          {"OnStart", json::array({{{"Content", script}}})}});
    body["LifecycleConfigName"] = config;
  }
  double waited = 0;
  for (double pause = 1;; pause *= 2) {
    try {
      call(client, "CreateNotebookInstance", body);
      return;
    } catch (const AwsError& e) {
      const std::string what = e.what();
      const bool role_not_ready = e.code() == "ValidationException" &&
                                  what.find("assume") != std::string::npos &&
                                  waited + pause <= r.role_wait_s;
      if (!role_not_ready) throw;
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(pause));
    waited += pause;
  }
}

NotebookInstance describe_notebook(AwsClient& client, const std::string& name) {
  return from_json(call(client, "DescribeNotebookInstance", {{"NotebookInstanceName", name}}));
}

std::vector<NotebookInstance> list_notebooks(AwsClient& client) {
  std::vector<NotebookInstance> out;
  std::string token;
  do {
    json body = json::object();
    if (!token.empty()) body["NextToken"] = token;
    const json r = call(client, "ListNotebookInstances", body);
    if (r.contains("NotebookInstances") && r["NotebookInstances"].is_array())
      for (const auto& j : r["NotebookInstances"]) out.push_back(from_json(j));
    token = str(r, "NextToken");
  } while (!token.empty());
  return out;
}

void change_notebook(AwsClient& client, const std::string& name, NotebookAction action) {
  const char* what = action == NotebookAction::Start  ? "StartNotebookInstance"
                     : action == NotebookAction::Stop ? "StopNotebookInstance"
                                                      : "DeleteNotebookInstance";
  call(client, what, {{"NotebookInstanceName", name}});
}

std::vector<std::string> notebooks_using_role(AwsClient& client, const std::string& role_arn,
                                              const std::string& except) {
  std::vector<std::string> out;
  for (const auto& listed : list_notebooks(client)) {
    if (listed.name == except || listed.status == "Deleting") continue;
    try {
      const NotebookInstance n = describe_notebook(client, listed.name);
      if (n.role_arn == role_arn && n.status != "Deleting") out.push_back(n.name);
    } catch (const AwsError& e) {
      if (e.code() != "ValidationException") throw;  // deleted meanwhile
    }
  }
  return out;
}

std::string notebook_url(AwsClient& client, const std::string& name, int session_s) {
  const json r =
      call(client, "CreatePresignedNotebookInstanceUrl",
           {{"NotebookInstanceName", name}, {"SessionExpirationDurationInSeconds", session_s}});
  const std::string url = str(r, "AuthorizedUrl");
  if (url.empty())
    throw Error("aws sagemaker CreatePresignedNotebookInstanceUrl: the reply has no URL");
  return url;
}

}  // namespace d2l::cloud
