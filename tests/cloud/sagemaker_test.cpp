// d2l/cloud/sagemaker.h and `d2l cloud notebook`, against the fake endpoint's SageMaker (JSON
// protocol): create with an on-start script, status, url, stop, delete, and their questions.
#include "d2l/cloud/sagemaker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "fake_aws.h"

using namespace d2l::cloud;
using namespace d2l::test;  // the fake AWS endpoint and its helpers (fake_aws.h)
using nlohmann::json;

TEST(CloudSageMaker, Base64AndNames) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64(std::string("\xff\xfe\x00", 3)), "//4A");
  for (const char* good : {"d2l", "my-notebook-1", "A"}) EXPECT_NO_THROW(check_notebook_name(good));
  for (const char* bad : {"", "-x", "x-", "a_b", "a b", std::string(64, 'a').c_str()})
    EXPECT_THROW(check_notebook_name(bad), d2l::Error) << bad;
  for (const char* good : {"ml.t3.medium", "ml.p3.2xlarge", "ml.g4dn.xlarge", "ml.p4d.24xlarge"})
    EXPECT_NO_THROW(check_notebook_type(good)) << good;
  for (const char* bad : {"t3.medium", "ml.t3", "ml..large", "ml.t3.huge"})
    EXPECT_THROW(check_notebook_type(bad), d2l::Error) << bad;
}

namespace {

class CloudNotebookCli : public FakeAwsTest {
 protected:
  void SetUp() override {
    FakeAwsTest::SetUp();
    if (IsSkipped()) return;
    use_fake_for({"AWS_ENDPOINT_URL_SAGEMAKER"});
    env_->set("AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:9");  // not used: nothing listens
    sign_in();
    set_state();
  }
  RunResult d2l(const std::string& args, const std::string& input = "") const {
    return run_d2l("cloud notebook " + args, input);
  }
};

const char* kRole = "arn:aws:iam::123456789012:role/d2l-sagemaker";

}  // namespace

TEST_F(CloudNotebookCli, CreateStatusUrlStopDelete) {
  const std::string script = env_->home() / "on-start.sh";
  std::ofstream(script) << "#!/bin/bash\nset -e\nsudo -u ec2-user -i pip install d2l\n";
  RunResult r = d2l("create nb1 --role " + std::string(kRole) + " --lifecycle " + script +
                    " --volume 20 --yes");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(
      r.output.find("Will create SageMaker notebook instance nb1 (ml.t3.medium, $0.0500/hour"),
      std::string::npos)
      << r.output;
  json st = fake_->stats();
  ASSERT_TRUE(st["notebooks"].contains("nb1")) << st.dump();
  const json& req = st["notebooks"]["nb1"]["request"];
  EXPECT_EQ(req["InstanceType"], "ml.t3.medium");
  EXPECT_EQ(req["RoleArn"], kRole);
  EXPECT_EQ(req["VolumeSizeInGB"], 20);
  EXPECT_EQ(req["LifecycleConfigName"], "nb1-on-start");
  EXPECT_EQ(req["Tags"].dump(), R"([{"Key":"d2l:managed","Value":"1"}])");
  EXPECT_EQ(st["lifecycleConfigs"]["nb1-on-start"]["OnStart"][0]["Content"],
            "IyEvYmluL2Jhc2gKc2V0IC1lCnN1ZG8gLXUgZWMyLXVzZXIgLWkgcGlwIGluc3RhbGwgZDJsCg==");
  for (const auto& q : st["requests"]) EXPECT_EQ(q["contentType"], "application/x-amz-json-1.1");
  r = d2l("status nb1");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("nb1: InService, ml.t3.medium ($0.0500/hour while InService), 20 GiB, "
                          "on start: nb1-on-start"),
            std::string::npos)
      << r.output;
  r = d2l("url nb1");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output,
            "https://nb1.notebook.us-east-1.sagemaker.aws?authToken=fake-presigned-token-43200\n");
  r = d2l("delete nb1 --yes");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("nb1 is InService: stop it first"), std::string::npos) << r.output;
  r = d2l("stop nb1");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("nb1: InService -> Stopping"), std::string::npos) << r.output;
  r = d2l("delete nb1", "n\n");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("Will delete notebook instance nb1"), std::string::npos) << r.output;
  EXPECT_TRUE(fake_->stats()["notebooks"].contains("nb1"));
  r = d2l("delete nb1", "y\n");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("nb1: Stopped -> Deleting"), std::string::npos) << r.output;
  r = d2l("status");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("No notebook instances in us-east-1"), std::string::npos) << r.output;
}

TEST_F(CloudNotebookCli, StartAfterStopAndListAll) {
  ASSERT_EQ(d2l("create a --role " + std::string(kRole) + " --yes").code, 0);
  ASSERT_EQ(d2l("create b --type ml.g4dn.xlarge --role " + std::string(kRole) + " --yes").code, 0);
  RunResult r = d2l("status");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("a: InService, ml.t3.medium"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("b: InService, ml.g4dn.xlarge"), std::string::npos) << r.output;
  ASSERT_EQ(d2l("stop a").code, 0);
  r = d2l("start a");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("a: Stopped -> Pending"), std::string::npos) << r.output;
  // Starting one that runs is AWS's error, one line.
  r = d2l("start b");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_EQ(r.output.rfind("d2l: aws sagemaker StartNotebookInstance: ValidationException", 0), 0u)
      << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
}

TEST_F(CloudNotebookCli, CreateAsksAndBadInputSendsNothing) {
  RunResult r = d2l("create nb1 --role " + std::string(kRole), "n\n");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("Create it? [y/N]"), std::string::npos) << r.output;
  for (const std::string& args :
       {"create bad_name --role " + std::string(kRole) + " --yes",
        "create nb1 --type p3.2xlarge --role " + std::string(kRole) + " --yes",
        "create nb1 --volume 3 --role " + std::string(kRole) + " --yes",
        std::string("create nb1 --role not-an-arn --yes"),
        "create nb1 --role " + std::string(kRole) + " --lifecycle /no/such/file --yes",
        std::string("status bad_name")}) {
    r = d2l(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.output;
  }
  const json st = fake_->stats();
  EXPECT_TRUE(st["notebooks"].empty());
  EXPECT_TRUE(st["requests"].empty()) << st.dump();
  r = d2l("status ghost");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("ValidationException: RecordNotFound"), std::string::npos) << r.output;
}
