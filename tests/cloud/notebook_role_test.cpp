// d2l/cloud/iam.h and the SageMaker notebook's execution role in `d2l cloud notebook create` and
// `delete`, against the fake endpoint's IAM (Query API, signed for us-east-1) and SageMaker (a
// test double that checks the role exists and trusts SageMaker).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "d2l/cloud/iam.h"
#include "d2l/cloud/sagemaker.h"
#include "fake_aws.h"

using namespace d2l::cloud;
using namespace d2l::test;  // the fake AWS endpoint and its helpers (fake_aws.h)
using nlohmann::json;

namespace {

const std::string kArn = "arn:aws:iam::123456789012:role/d2l-sagemaker-notebook";
const std::string kPolicy = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess";
const std::string kTrust =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]})";

// The fake's role as d2l makes it.
json our_role() {
  return {{"arn", kArn},
          {"trust", kTrust},
          {"tags", {{"d2l:managed", "1"}}},
          {"policies", json::array({kPolicy})}};
}

json notebook(const std::string& name, const std::string& status, const std::string& role) {
  return {{"NotebookInstanceName", name},
          {"NotebookInstanceStatus", status},
          {"InstanceType", "ml.t3.medium"},
          {"RoleArn", role},
          {"Url", name + ".notebook.us-east-1.sagemaker.aws"}};
}

class NotebookRole : public FakeAwsTest {
 protected:
  void SetUp() override {
    FakeAwsTest::SetUp();
    if (IsSkipped()) return;
    use_fake_for();        // SageMaker and IAM alike
    sign_in("eu-west-1");  // IAM is still signed for us-east-1
    state({});
  }
  void state(json extra) {
    json s = {{"iamRoles", json::object()}};
    if (extra.is_object()) s.update(extra);
    set_state(s);
  }
  json roles() const {
    return json::parse(d2l::HttpClient().get_json(fake_->url() + "/_fake/iam").body);
  }
  RunResult d2l(const std::string& args, const std::string& input = "") const {
    return run_d2l("cloud notebook " + args, input);
  }
  AwsClient client() const {
    return AwsClient(Credentials{kKeyId, kSecret, "", "environment", ""}, "eu-west-1");
  }
};

}  // namespace

TEST(IamNames, ArnsPartitionsAndTheGlobalEndpoint) {
  for (const char* good :
       {"arn:aws:iam::123456789012:role/d2l-sagemaker-notebook",
        "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole-2026",
        "arn:aws-cn:iam::123456789012:role/x", "arn:aws-us-gov:iam::123456789012:role/a+b=c,d.e@f"})
    EXPECT_NO_THROW(check_role_arn(good)) << good;
  for (const char* bad :
       {"", "d2l-sagemaker-notebook", "arn:aws:iam::123:role/x", "arn:aws:iam::123456789012:user/x",
        "arn:aws:s3:::bucket", "arn:aws:iam::123456789012:role/"})
    EXPECT_THROW(check_role_arn(bad), d2l::Error) << bad;
  EXPECT_EQ(role_name_of("arn:aws:iam::123456789012:role/service-role/R"), "R");
  EXPECT_EQ(partition_of("eu-west-1"), "aws");
  EXPECT_EQ(partition_of("cn-northwest-1"), "aws-cn");
  EXPECT_EQ(partition_of("us-gov-east-1"), "aws-us-gov");
  AwsEnv env;
  EXPECT_EQ(service_name(Service::Iam), "iam");
  EXPECT_EQ(endpoint_url(Service::Iam, "eu-west-1"), "https://iam.amazonaws.com/");
  EXPECT_EQ(signing_region(Service::Iam, "eu-west-1"), "us-east-1");
  EXPECT_EQ(endpoint_url(Service::Iam, "cn-north-1"), "https://iam.cn-north-1.amazonaws.com.cn/");
  EXPECT_EQ(signing_region(Service::Iam, "us-gov-east-1"), "us-gov-west-1");
  ::setenv("AWS_ENDPOINT_URL_IAM", "http://127.0.0.1:7/", 1);
  EXPECT_EQ(endpoint_url(Service::Iam, "eu-west-1"), "http://127.0.0.1:7/");
  ::unsetenv("AWS_ENDPOINT_URL_IAM");
}

TEST(IamNames, TrustPoliciesAreRead) {
  IamRole r;
  r.trust_policy = kTrust;
  EXPECT_TRUE(r.trusts("sagemaker.amazonaws.com"));
  EXPECT_FALSE(r.trusts("ec2.amazonaws.com"));
  r.trust_policy =
      R"({"Statement":{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","sagemaker.amazonaws.com"]},"Action":["sts:AssumeRole"]}})";
  EXPECT_TRUE(r.trusts("sagemaker.amazonaws.com"));
  r.trust_policy =
      R"({"Statement":[{"Effect":"Deny","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]})";
  EXPECT_FALSE(r.trusts("sagemaker.amazonaws.com"));
  r.trust_policy = "not json";
  EXPECT_FALSE(r.trusts("sagemaker.amazonaws.com"));
}

TEST_F(NotebookRole, CreatedOnceWithTrustTagAndPolicyThenFound) {
  AwsClient c = client();
  EXPECT_FALSE(get_role(c, kNotebookRoleName));  // NoSuchEntity
  const IamRole made = create_notebook_role(c);
  EXPECT_EQ(made.arn, kArn);
  EXPECT_TRUE(made.managed());
  EXPECT_TRUE(made.trusts("sagemaker.amazonaws.com"));
  const json r = roles()[kNotebookRoleName];
  EXPECT_EQ(r["tags"]["d2l:managed"], "1");
  EXPECT_EQ(r["policies"], json::array({kPolicy}));
  IamRole stored;
  stored.trust_policy = r["trust"].get<std::string>();
  EXPECT_TRUE(stored.trusts("sagemaker.amazonaws.com"));
  const auto found = get_role(c, kNotebookRoleName);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->arn, kArn);
  EXPECT_TRUE(found->managed());
  EXPECT_TRUE(found->trusts("sagemaker.amazonaws.com"));  // the document comes URL-encoded
  // Every IAM request was signed for us-east-1 (the fake refuses others) and verified.
  const json st = fake_->stats();
  EXPECT_EQ(st["rejected"], 0);
  for (const auto& q : st["requests"])
    EXPECT_NE(q["body"].get<std::string>().find("Version=2010-05-08"), std::string::npos);
  // Deleting detaches the policy first.
  delete_role(c, kNotebookRoleName);
  EXPECT_FALSE(roles().contains(kNotebookRoleName));
  EXPECT_EQ(calls("DetachRolePolicy"), 1);
}

TEST_F(NotebookRole, IamRefusalsAreOneLineNamingThePermission) {
  state({{"faults", json::array({{{"action", "CreateRole"},
                                  {"code", "AccessDenied"},
                                  {"status", 403},
                                  {"message",
                                   "User: arn:aws:iam::123456789012:user/d2l is not authorized "
                                   "to perform: iam:CreateRole"},
                                  {"times", 1}}})}});
  AwsClient c = client();
  try {
    create_notebook_role(c);
    FAIL();
  } catch (const AwsError& e) {
    const std::string w = e.what();
    EXPECT_EQ(w,
              "aws iam CreateRole: AccessDenied: environment lacks the permission iam:CreateRole, "
              "needed to create the notebook role d2l-sagemaker-notebook; add it to the "
              "identity's policy, or pass --role ARN of a role SageMaker may assume");
    EXPECT_EQ(e.code(), "AccessDenied");
  }
  state({{"iamRoles", {{kNotebookRoleName, our_role()}}},
         {"faults", json::array({{{"action", "DeleteRole"},
                                  {"code", "DeleteConflict"},
                                  {"status", 409},
                                  {"times", 1}}})}});
  try {
    delete_role(c, kNotebookRoleName);
    FAIL();
  } catch (const AwsError& e) {
    EXPECT_NE(std::string(e.what()).find("still has inline policies or instance profiles"),
              std::string::npos)
        << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
}

TEST_F(NotebookRole, CreateWithoutRoleMakesItOnceAndSaysSo) {
  RunResult r = d2l("create nb1 --yes");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("with a new IAM role d2l-sagemaker-notebook"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("Created IAM role d2l-sagemaker-notebook (" + kArn + ")"),
            std::string::npos)
      << r.output;
  json st = fake_->stats();
  ASSERT_TRUE(st["notebooks"].contains("nb1")) << st.dump();
  EXPECT_EQ(st["notebooks"]["nb1"]["request"]["RoleArn"], kArn);
  EXPECT_TRUE(roles().contains(kNotebookRoleName));
  // The second notebook finds the role: nothing created again.
  r = d2l("create nb2 --yes");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("with role " + kArn), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("Created IAM role"), std::string::npos) << r.output;
  EXPECT_EQ(calls("CreateRole"), 1);
  EXPECT_EQ(calls("AttachRolePolicy"), 1);
  EXPECT_EQ(fake_->stats()["notebooks"]["nb2"]["request"]["RoleArn"], kArn);
}

TEST_F(NotebookRole, DeclinedCreatesNothingAndANewRoleIsWaitedFor) {
  RunResult r = d2l("create nb1", "n\n");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_TRUE(roles().empty());  // asked before anything was made
  // IAM is eventually consistent: SageMaker may not assume a role made a moment ago.
  state({{"faults", json::array({{{"action", "CreateNotebookInstance"},
                                  {"code", "ValidationException"},
                                  {"message", "Could not assume role " + kArn + "."},
                                  {"times", 1}}})}});
  r = d2l("create nb1", "y\n");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(calls("CreateNotebookInstance"), 2);
  EXPECT_TRUE(fake_->stats()["notebooks"].contains("nb1"));
}

TEST_F(NotebookRole, ARoleThatDoesNotTrustSageMakerIsRefusedBeforeAnything) {
  json bad = our_role();
  bad["trust"] =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]})";
  state({{"iamRoles", {{kNotebookRoleName, bad}}}});
  RunResult r = d2l("create nb1 --yes");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("d2l-sagemaker-notebook exists but does not trust "
                          "sagemaker.amazonaws.com"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_TRUE(fake_->stats()["notebooks"].empty());
  EXPECT_EQ(calls("CreateRole"), 0);
  // A role named with --role must look like one: checked before any request.
  r = d2l("create nb1 --role arn:aws:iam::123456789012:user/me --yes");
  EXPECT_EQ(r.code, 2) << r.output;
  // Without iam:GetRole: one line, and --role is the way round it.
  state(
      {{"faults",
        json::array(
            {{{"action", "GetRole"}, {"code", "AccessDenied"}, {"status", 403}, {"times", 1}}})}});
  r = d2l("create nb1 --yes");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("lacks the permission iam:GetRole"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("pass --role ARN"), std::string::npos) << r.output;
}

TEST_F(NotebookRole, DeleteOffersToRemoveTheRoleOnceNoNotebookUsesIt) {
  const std::string other = "arn:aws:iam::123456789012:role/someone-elses";
  state({{"iamRoles", {{kNotebookRoleName, our_role()}}},
         {"notebooks",
          {{"a", notebook("a", "Stopped", kArn)},
           {"b", notebook("b", "Stopped", kArn)},
           {"c", notebook("c", "Stopped", other)}}}});
  // b still uses the role: no question about it.
  RunResult r = d2l("delete a --yes --cleanup");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("a: Stopped -> Deleting"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("IAM role d2l-sagemaker-notebook is kept: notebook instance b uses it"),
            std::string::npos)
      << r.output;
  EXPECT_TRUE(roles().contains(kNotebookRoleName));
  // The last one: asked, declined, kept.
  r = d2l("delete b", "y\nn\n");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("No notebook instance in eu-west-1 uses IAM role d2l-sagemaker-notebook "
                          "now"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("Delete it too? [y/N]"), std::string::npos) << r.output;
  EXPECT_TRUE(roles().contains(kNotebookRoleName));
  EXPECT_EQ(calls("DeleteRole"), 0);
  // A role d2l did not make is never offered.
  r = d2l("delete c --yes --cleanup");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output.find("IAM role"), std::string::npos) << r.output;
  // Asked and accepted: detached and deleted.
  state({{"iamRoles", {{kNotebookRoleName, our_role()}}},
         {"notebooks", {{"d", notebook("d", "Stopped", kArn)}}}});
  r = d2l("delete d", "y\ny\n");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("Deleted IAM role d2l-sagemaker-notebook"), std::string::npos)
      << r.output;
  EXPECT_FALSE(roles().contains(kNotebookRoleName));
  // --yes alone keeps it, as terminate keeps the key pair.
  state({{"iamRoles", {{kNotebookRoleName, our_role()}}},
         {"notebooks", {{"e", notebook("e", "Stopped", kArn)}}}});
  r = d2l("delete e --yes");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("Kept it (--cleanup deletes it with the last notebook instance)"),
            std::string::npos)
      << r.output;
  EXPECT_TRUE(roles().contains(kNotebookRoleName));
}
