// d2l/cloud/aws.h: credentials and region in the standard order, endpoints, signed requests
// (checked by the fake endpoint with AWS's own signer), retries, and errors as one line.
#include "d2l/cloud/aws.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "fake_aws.h"

using namespace d2l::cloud;
using namespace d2l::test;  // the fake AWS endpoint and its helpers (fake_aws.h)
using nlohmann::json;

namespace {

// A credential_process script in the fake HOME printing `json_text`.
std::string write_process(const AwsEnv& env, const std::string& json_text, int exit_code = 0,
                          const std::string& file = "creds.sh") {
  const std::string path = env.home() / file;
  std::ofstream(path) << "#!/bin/sh\necho 'oops on stderr' >&2\ncat <<'JSON'\n"
                      << json_text << "\nJSON\nexit " << exit_code << "\n";
  ::chmod(path.c_str(), 0700);
  return path;
}

}  // namespace

TEST(CloudCredentials, EnvironmentBeatsTheDefaultProfile) {
  AwsEnv env;
  env.write_aws("credentials",
                "[default]\naws_access_key_id = AKIDPROFILE\n"
                "aws_secret_access_key = profilesecret\n");
  env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env.set("AWS_SECRET_ACCESS_KEY", "envsecret");
  env.set("AWS_SESSION_TOKEN", "envtoken");
  const Credentials c = resolve_credentials();
  EXPECT_EQ(c.access_key_id, "AKIDENV");
  EXPECT_EQ(c.secret_access_key, "envsecret");
  EXPECT_EQ(c.session_token, "envtoken");
  EXPECT_EQ(c.source, "environment");
  // Without the environment's keys, the profile is read.
  env.unset("AWS_ACCESS_KEY_ID");
  env.unset("AWS_SECRET_ACCESS_KEY");
  env.unset("AWS_SESSION_TOKEN");
  const Credentials p = resolve_credentials();
  EXPECT_EQ(p.access_key_id, "AKIDPROFILE");
  EXPECT_EQ(p.source, "profile default");
  // An explicit --profile beats the environment, as in the AWS CLI.
  env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env.set("AWS_SECRET_ACCESS_KEY", "envsecret");
  AwsSettings s;
  s.profile = "default";
  EXPECT_EQ(resolve_credentials(s).access_key_id, "AKIDPROFILE");
}

TEST(CloudCredentials, HalfAnEnvironmentPairIsAnError) {
  AwsEnv env;
  env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
  try {
    resolve_credentials();
    FAIL() << "no error";
  } catch (const d2l::Error& e) {
    EXPECT_NE(std::string(e.what()).find("AWS_SECRET_ACCESS_KEY is not"), std::string::npos);
  }
}

TEST(CloudCredentials, NamedProfileFromConfigWithCredentialProcess) {
  AwsEnv env;
  const std::string script =
      write_process(env, R"({"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": )"
                         R"("procsecret", "SessionToken": "proctoken", "Expiration": )"
                         R"("2030-01-01T00:00:00Z"})");
  env.write_aws("config",
                "[default]\nregion = eu-west-1\n\n[profile dev]\nregion = eu-west-2\n"
                "credential_process = " +
                    script + "\n  nested = ignored\n");
  env.set("AWS_PROFILE", "dev");
  const Credentials c = resolve_credentials();
  EXPECT_EQ(c.access_key_id, "AKIDPROC");
  EXPECT_EQ(c.secret_access_key, "procsecret");
  EXPECT_EQ(c.session_token, "proctoken");
  EXPECT_EQ(c.expiration, "2030-01-01T00:00:00Z");
  EXPECT_EQ(c.source, "credential_process of profile dev");
  EXPECT_EQ(resolve_region(), "eu-west-2");  // the profile's region
  env.set("AWS_DEFAULT_REGION", "ap-south-1");
  EXPECT_EQ(resolve_region(), "ap-south-1");
  env.set("AWS_REGION", "us-west-2");
  EXPECT_EQ(resolve_region(), "us-west-2");
  AwsSettings s;
  s.region = "ca-central-1";
  EXPECT_EQ(resolve_region(s), "ca-central-1");
}

TEST(CloudCredentials, CredentialProcessFaultsNeverShowItsOutput) {
  AwsEnv env;
  const std::string v2 =
      write_process(env, R"({"Version": 2, "SecretAccessKey": "leak1"})", 0, "v2.sh");
  const std::string fails = write_process(env, R"({"SecretAccessKey": "leak2"})", 3, "fails.sh");
  env.write_aws("config", "[profile bad]\ncredential_process = " + v2 +
                              "\n[profile fails]\ncredential_process = " + fails + "\n");
  for (const char* name : {"bad", "fails"}) {
    AwsSettings s;
    s.profile = name;
    try {
      resolve_credentials(s);
      FAIL() << name << ": no error";
    } catch (const d2l::Error& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find(std::string("credential_process of profile ") + name), std::string::npos)
          << m;
      EXPECT_EQ(m.find("leak"), std::string::npos) << m;
      EXPECT_EQ(m.find('\n'), std::string::npos) << m;
      if (std::string(name) == "bad") EXPECT_NE(m.find("\"Version\": 1"), std::string::npos) << m;
      if (std::string(name) == "fails") EXPECT_NE(m.find("exit 3"), std::string::npos) << m;
    }
  }
}

TEST(CloudCredentials, SsoAndRoleProfilesSayWhatToRun) {
  AwsEnv env;
  env.write_aws("config",
                "[profile sso]\nsso_session = corp\nsso_account_id = 1\n"
                "[profile role]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n");
  AwsSettings s;
  s.profile = "sso";
  try {
    resolve_credentials(s);
    FAIL();
  } catch (const d2l::Error& e) {
    EXPECT_NE(std::string(e.what()).find("aws sso login --profile sso"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("credential_process"), std::string::npos);
  }
  s.profile = "role";
  EXPECT_THROW(resolve_credentials(s), d2l::Error);
  s.profile = "missing";
  try {
    resolve_credentials(s);
    FAIL();
  } catch (const d2l::Error& e) {
    EXPECT_NE(std::string(e.what()).find("profile 'missing' is in neither"), std::string::npos);
  }
}

TEST(CloudCredentials, NoneAnywhereSaysWhereToPutThem) {
  AwsEnv env;
  env.set("AWS_EC2_METADATA_DISABLED", "false");
  env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1");  // nothing listens
  try {
    resolve_credentials();
    FAIL();
  } catch (const d2l::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no credentials"), std::string::npos) << e.what();
  }
}

TEST(CloudCredentials, InstanceRoleThroughImdsV2) {
  if (const auto why = FakeAws::skip_reason(); !why.empty()) GTEST_SKIP() << why;
  AwsEnv env;
  FakeAws fake;
  fake.set_state({{"imds",
                   {{"role", "d2l-role"},
                    {"AccessKeyId", "ASIAROLE"},
                    {"SecretAccessKey", "rolesecret"},
                    {"Token", "roletoken"}}},
                  {"keys", {{"ASIAROLE", {{"secret", "rolesecret"}, {"token", "roletoken"}}}}}});
  env.set("AWS_EC2_METADATA_DISABLED", "false");
  env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.url());
  const Credentials c = resolve_credentials();
  EXPECT_EQ(c.access_key_id, "ASIAROLE");
  EXPECT_EQ(c.session_token, "roletoken");
  EXPECT_EQ(c.source, "instance role d2l-role (IMDSv2)");
  EXPECT_FALSE(c.expiration.empty());
  // The role's session token travels with a signed request and the fake accepts it.
  env.set("AWS_ENDPOINT_URL_EC2", fake.url());
  AwsClient client(c, "us-east-1");
  EXPECT_EQ(client.query(Service::Ec2, "DescribeInstances", {}).name, "DescribeInstancesResponse");
  const json st = fake.stats();
  ASSERT_EQ(st["requests"].size(), 1u);
  EXPECT_TRUE(st["requests"][0]["token"].get<bool>());
  // A profile's keys come before the instance role.
  env.write_aws("credentials", "[default]\naws_access_key_id=AKIDP\naws_secret_access_key=s\n");
  EXPECT_EQ(resolve_credentials().access_key_id, "AKIDP");
}

TEST(CloudRegion, MalformedIsBadInputAndMissingSaysHow) {
  AwsEnv env;
  AwsSettings s;
  s.region = "us-east-1; rm -rf";
  try {
    resolve_region(s);
    FAIL();
  } catch (const d2l::Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
  }
  for (const char* good : {"us-east-1", "eu-west-2", "us-gov-west-1", "ap-southeast-3"})
    EXPECT_NO_THROW(check_region(good)) << good;
  for (const char* bad : {"", "useast1", "US-EAST-1", "us-east-"})
    EXPECT_THROW(check_region(bad), d2l::Error) << bad;
  try {
    resolve_region();
    FAIL();
  } catch (const d2l::Error& e) {
    EXPECT_EQ(e.exit_code(), 1);
    EXPECT_NE(std::string(e.what()).find("--region"), std::string::npos);
  }
}

TEST(CloudEndpoints, StandardVariablesOverride) {
  AwsEnv env;
  EXPECT_EQ(endpoint_url(Service::Ec2, "eu-west-1"), "https://ec2.eu-west-1.amazonaws.com/");
  EXPECT_EQ(endpoint_url(Service::SageMaker, "us-east-1"),
            "https://api.sagemaker.us-east-1.amazonaws.com/");
  EXPECT_EQ(endpoint_url(Service::Ssm, "cn-north-1"), "https://ssm.cn-north-1.amazonaws.com.cn/");
  env.set("AWS_ENDPOINT_URL", "http://localhost:4566/");
  EXPECT_EQ(endpoint_url(Service::Ssm, "us-east-1"), "http://localhost:4566/");
  env.set("AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:9");
  EXPECT_EQ(endpoint_url(Service::Ec2, "us-east-1"), "http://127.0.0.1:9/");
  EXPECT_EQ(endpoint_url(Service::Ssm, "us-east-1"), "http://localhost:4566/");
}

TEST(CloudErrors, AdviceForTheCommonCodes) {
  EXPECT_NE(error_advice("InsufficientInstanceCapacity", "RunInstances").find("another"),
            std::string::npos);
  EXPECT_NE(error_advice("VcpuLimitExceeded", "RunInstances").find("Service Quotas"),
            std::string::npos);
  EXPECT_NE(error_advice("UnauthorizedOperation", "StopInstances").find("StopInstances"),
            std::string::npos);
  EXPECT_NE(error_advice("RequestExpired", "X").find("expired"), std::string::npos);
  EXPECT_NE(error_advice("AuthFailure", "X").find("secret"), std::string::npos);
  EXPECT_EQ(error_advice("SomethingNew", "X"), "");
  EXPECT_TRUE(is_retryable("RequestLimitExceeded", 503));
  EXPECT_TRUE(is_retryable("Throttling", 400));
  EXPECT_TRUE(is_retryable("", 500));
  EXPECT_FALSE(is_retryable("UnauthorizedOperation", 403));
  EXPECT_FALSE(is_retryable("InsufficientInstanceCapacity", 500));
}

class CloudFake : public FakeAwsTest {
 protected:
  void SetUp() override {
    FakeAwsTest::SetUp();
    if (IsSkipped()) return;
    use_fake_for();
  }
  Credentials creds(const std::string& secret = kSecret) const {
    Credentials c;
    c.access_key_id = kKeyId;
    c.secret_access_key = secret;
    c.source = "test";
    return c;
  }
  void state(json extra = json::object()) const { set_state(extra); }
};

TEST_F(CloudFake, SignedQueryIsAcceptedAndAWrongSecretIsRejected) {
  state();
  AwsClient good(creds(), "us-east-1");
  EXPECT_EQ(good.query(Service::Ec2, "DescribeInstances", {{"MaxResults", "5"}}).name,
            "DescribeInstancesResponse");
  EXPECT_EQ(good.last_attempts(), 1);
  AwsClient bad(creds("not-the-secret"), "us-east-1");
  try {
    bad.query(Service::Ec2, "DescribeInstances", {});
    FAIL() << "a wrong secret was accepted";
  } catch (const AwsError& e) {
    EXPECT_EQ(e.code(), "AuthFailure");
    EXPECT_EQ(e.status(), 401);
    const std::string m = e.what();
    EXPECT_EQ(m.rfind("aws ec2 DescribeInstances: AuthFailure: ", 0), 0u) << m;
    EXPECT_EQ(m.find("not-the-secret"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
  EXPECT_EQ(bad.last_attempts(), 1);  // not retried
  const json st = fake_->stats();
  EXPECT_EQ(st["rejected"].get<int>(), 1);
  EXPECT_EQ(st["requests"][0]["contentType"], "application/x-www-form-urlencoded; charset=utf-8");
}

TEST_F(CloudFake, ThrottlingIsRetriedWithBackoffUntilItPasses) {
  state({{"faults",
          {{{"action", "DescribeInstances"},
            {"code", "RequestLimitExceeded"},
            {"status", 503},
            {"times", 3}}}}});
  AwsClient client(creds(), "us-east-1");
  EXPECT_NO_THROW(client.query(Service::Ec2, "DescribeInstances", {}));
  EXPECT_EQ(client.last_attempts(), 4);
  EXPECT_EQ(fake_->stats()["attempts"]["DescribeInstances"].get<int>(), 4);
}

TEST_F(CloudFake, RetriesStopAtTheLimitWithOneLine) {
  state({{"faults",
          {{{"action", "*"}, {"code", "InternalError"}, {"status", 500}, {"times", 100}}}}});
  env_->set("AWS_MAX_ATTEMPTS", "3");
  AwsClient client(creds(), "us-east-1");
  try {
    client.query(Service::Ec2, "StopInstances", {{"InstanceId.1", "i-1"}});
    FAIL();
  } catch (const AwsError& e) {
    EXPECT_EQ(e.code(), "InternalError");
    EXPECT_NE(std::string(e.what()).find("after 3 attempts"), std::string::npos) << e.what();
  }
  EXPECT_EQ(fake_->stats()["attempts"]["StopInstances"].get<int>(), 3);
}

TEST_F(CloudFake, EachErrorIsOneLineWithItsCodeAndAdvice) {
  struct Case {
    const char* code;
    int status;
    const char* advice;
  };
  for (const Case& c : {Case{"UnauthorizedOperation", 403, "may not call DescribeInstances"},
                        Case{"RequestExpired", 400, "expired"},
                        Case{"InsufficientInstanceCapacity", 500, "another availability zone"},
                        Case{"VcpuLimitExceeded", 400, "Service Quotas"}}) {
    state({{"faults",
            {{{"action", "DescribeInstances"},
              {"code", c.code},
              {"status", c.status},
              {"times", 1}}}}});
    AwsClient client(creds(), "us-east-1");
    try {
      client.query(Service::Ec2, "DescribeInstances", {});
      FAIL() << c.code;
    } catch (const AwsError& e) {
      const std::string m = e.what();
      EXPECT_EQ(e.code(), c.code);
      EXPECT_NE(m.find(std::string("DescribeInstances: ") + c.code), std::string::npos) << m;
      EXPECT_NE(m.find(c.advice), std::string::npos) << m;
      EXPECT_EQ(m.find('\n'), std::string::npos) << m;
      EXPECT_EQ(m.find(kSecret), std::string::npos) << m;
    }
  }
}

TEST_F(CloudFake, ExpiredSessionTokenIsReported) {
  fake_->set_state(
      {{"keys", {{kKeyId, {{"secret", kSecret}, {"token", "t1"}, {"expired", true}}}}}});
  Credentials c = creds();
  c.session_token = "t1";
  AwsClient client(c, "us-east-1");
  try {
    client.query(Service::Ec2, "DescribeInstances", {});
    FAIL();
  } catch (const AwsError& e) {
    EXPECT_EQ(e.code(), "RequestExpired");
    EXPECT_NE(std::string(e.what()).find("get new ones"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("t1"), std::string::npos);
  }
  // A wrong token is refused: the fake checks the signed X-Amz-Security-Token.
  fake_->set_state({{"keys", {{kKeyId, {{"secret", kSecret}, {"token", "t2"}}}}}});
  EXPECT_THROW(client.query(Service::Ec2, "DescribeInstances", {}), AwsError);
}

TEST_F(CloudFake, SsmGetParameterOverTheJsonProtocol) {
  const std::string name =
      "/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id";
  state({{"parameters", {{name, "ami-0123456789abcdef0"}}}});
  AwsClient client(creds(), "us-east-1");
  EXPECT_EQ(ssm_get_parameter(client, name), "ami-0123456789abcdef0");
  try {
    ssm_get_parameter(client, "/no/such");
    FAIL();
  } catch (const AwsError& e) {
    EXPECT_EQ(e.code(), "ParameterNotFound");
    EXPECT_NE(std::string(e.what()).find("aws ssm GetParameter: ParameterNotFound"),
              std::string::npos)
        << e.what();
  }
  const json st = fake_->stats();
  EXPECT_EQ(st["requests"][0]["contentType"], "application/x-amz-json-1.1");
  EXPECT_NE(st["requests"][0]["signed"].dump().find("x-amz-target"), std::string::npos);
}
