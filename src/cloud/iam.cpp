// The SageMaker notebook's IAM role through IAM's Query API (see d2l/cloud/iam.h).
#include "d2l/cloud/iam.h"

#include <cctype>
#include <nlohmann/json.hpp>
#include <regex>

#include "d2l/cloud/ec2.h"

namespace d2l::cloud {

namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

// Percent-decoding (IAM sends policy documents URL-encoded).
std::string url_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

// One IAM call; AccessDenied becomes one line naming the permission and what to do instead.
XmlNode call(AwsClient& client, const std::string& action, const Params& params,
             const std::string& purpose, const std::string& instead) {
  try {
    return client.query(Service::Iam, action, params);
  } catch (const AwsError& e) {
    if (e.code() != "AccessDenied" && e.code() != "AccessDeniedException") throw;
    throw AwsError("aws iam " + action + ": AccessDenied: " + client.credentials_source() +
                       " lacks the permission iam:" + action + ", needed to " + purpose +
                       (instead.empty() ? "" : "; " + instead),
                   e.code(), e.status());
  }
}

const char* kInstead =
    "add it to the identity's policy, or pass --role ARN of a role SageMaker may assume";

IamRole role_from(const XmlNode& role) {
  IamRole r;
  r.name = role.child_text("RoleName");
  r.arn = role.child_text("Arn");
  r.trust_policy = url_decode(role.child_text("AssumeRolePolicyDocument"));
  if (const XmlNode* tags = role.child("Tags"))
    for (const XmlNode* m : tags->all("member"))
      r.tags.emplace_back(m->child_text("Key"), m->child_text("Value"));
  if (const XmlNode* used = role.child("RoleLastUsed"))
    r.last_used_region = used->child_text("Region");
  return r;
}

std::string trust_policy_for(const std::string& service) {
  const nlohmann::json doc = {{"Version", "2012-10-17"},
                              {"Statement",
                               {{{"Effect", "Allow"},
                                 {"Principal", {{"Service", service}}},
                                 {"Action", "sts:AssumeRole"}}}}};
  return doc.dump();
}

bool names(const nlohmann::json& v, const std::string& what) {
  if (v.is_string()) return v.get<std::string>() == what || v.get<std::string>() == "*";
  if (v.is_array())
    for (const auto& x : v)
      if (names(x, what)) return true;
  return false;
}

}  // namespace

std::string partition_of(const std::string& region) {
  if (region.rfind("cn-", 0) == 0) return "aws-cn";
  if (region.rfind("us-gov-", 0) == 0) return "aws-us-gov";
  return "aws";
}

void check_role_arn(const std::string& arn) {
  static const std::regex shape(
      R"(arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/([\w+=,.@-]+/)*[\w+=,.@-]{1,64})");
  if (!std::regex_match(arn, shape))
    throw bad_input("cloud: --role: '" + arn +
                    "' is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)");
}

std::string role_name_of(const std::string& arn) { return arn.substr(arn.rfind('/') + 1); }

bool IamRole::managed() const {
  for (const auto& [k, v] : tags)
    if (k == kManagedTag) return true;
  return false;
}

bool IamRole::trusts(const std::string& service) const {
  try {
    const auto doc = nlohmann::json::parse(trust_policy);
    auto statements = doc.at("Statement");
    if (statements.is_object()) statements = nlohmann::json::array({statements});
    for (const auto& s : statements) {
      if (s.value("Effect", "") != "Allow" || !s.contains("Action") ||
          !names(s["Action"], "sts:AssumeRole") || !s.contains("Principal"))
        continue;
      const auto& p = s["Principal"];
      if (p.is_object() && p.contains("Service") && names(p["Service"], service)) return true;
    }
  } catch (const std::exception&) {
  }
  return false;
}

std::optional<IamRole> get_role(AwsClient& client, const std::string& name) {
  try {
    const XmlNode reply = call(client, "GetRole", {{"RoleName", name}},
                               "look up the notebook role " + name, kInstead);
    const XmlNode* role = reply.path({"GetRoleResult", "Role"});
    if (!role) throw Error("aws iam GetRole " + name + ": the reply has no Role");
    return role_from(*role);
  } catch (const AwsError& e) {
    if (e.code() == "NoSuchEntity") return std::nullopt;
    throw;
  }
}

IamRole create_notebook_role(AwsClient& client, const std::string& name) {
  const std::string purpose = "create the notebook role " + name;
  const XmlNode reply = call(
      client, "CreateRole",
      {{"RoleName", name},
       {"AssumeRolePolicyDocument", trust_policy_for("sagemaker.amazonaws.com")},
       {"Description", "Made by d2l cloud notebook create: SageMaker notebook instances run as it"},
       {"Tags.member.1.Key", kManagedTag},
       {"Tags.member.1.Value", "1"}},
      purpose, kInstead);
  const XmlNode* role = reply.path({"CreateRoleResult", "Role"});
  if (!role) throw Error("aws iam CreateRole " + name + ": the reply has no Role");
  IamRole r = role_from(*role);
  const std::string policy = "arn:" + partition_of(client.region()) + ":iam::aws:policy/" +
                             std::string(kNotebookRolePolicy);
  call(client, "AttachRolePolicy", {{"RoleName", name}, {"PolicyArn", policy}},
       "give the new role " + name + " the policy " + kNotebookRolePolicy,
       "add it to the identity's policy, or delete the role (`aws iam delete-role --role-name " +
           name + "`) and pass --role ARN");
  if (r.tags.empty()) r.tags.emplace_back(kManagedTag, "1");
  return r;
}

void delete_role(AwsClient& client, const std::string& name) {
  const std::string purpose = "delete the notebook role " + name;
  const XmlNode list = call(client, "ListAttachedRolePolicies", {{"RoleName", name}}, purpose, "");
  if (const XmlNode* attached = list.path({"ListAttachedRolePoliciesResult", "AttachedPolicies"}))
    for (const XmlNode* m : attached->all("member"))
      call(client, "DetachRolePolicy",
           {{"RoleName", name}, {"PolicyArn", m->child_text("PolicyArn")}}, purpose, "");
  try {
    call(client, "DeleteRole", {{"RoleName", name}}, purpose, "");
  } catch (const AwsError& e) {
    if (e.code() != "DeleteConflict") throw;
    throw AwsError("aws iam DeleteRole: DeleteConflict: role " + name +
                       " still has inline policies or instance profiles that d2l did not make: "
                       "remove them in the IAM console, or keep the role",
                   e.code(), e.status());
  }
}

}  // namespace d2l::cloud
