#pragma once
// What `d2l cloud` and `d2l cost` share: the price catalogue as both load it (warnings shown
// once, on stderr), the AWS options (--region, --profile) and the AWS client they make.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "d2l/cloud/aws.h"
#include "d2l/cloud/xml.h"
#include "d2l/core/error.h"
#include "d2l/ops/pricing.h"
#include "flag_checks.h"

namespace d2l::cli {

/// The catalogue (d2l::ops::Catalog::load_default()); a left-out source (a corrupt updated
/// catalogue) is one line on stderr, and the prices come from the others.
inline ops::Catalog load_catalog(const std::string& explicit_path = "") {
  ops::Catalog catalog = ops::Catalog::load_default(explicit_path);
  for (const auto& w : catalog.warnings()) std::fprintf(stderr, "d2l: %s\n", w.c_str());
  return catalog;
}

/// --region and --profile, as every AWS command takes them.
inline void add_aws_options(CLI::App* sub, std::string& region, std::string& profile) {
  sub->add_option("--region", region,
                  "AWS region (default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile's)")
      ->check(non_empty());
  sub->add_option("--profile", profile,
                  "Profile of ~/.aws/credentials and ~/.aws/config (default: $AWS_PROFILE, "
                  "else the environment's keys, else default)")
      ->check(non_empty());
}

/// A client for the region (checked before credentials are looked for, so bad input costs no
/// request). With `global`, for Budgets and Cost Explorer: any region will do, us-east-1 when
/// none is set (a malformed one is still refused).
inline cloud::AwsClient make_aws_client(const std::string& region, const std::string& profile,
                                        bool global = false) {
  if (!cloud::have_xml())
    throw Error(
        "cloud: this d2l was built without expat, so it cannot talk to AWS's XML APIs "
        "(install libexpat1-dev and rebuild)");
  cloud::AwsSettings s;
  s.profile = profile;
  s.region = region;
  std::string resolved;
  try {
    resolved = cloud::resolve_region(s);
  } catch (const Error& e) {
    if (!global || e.kind() == Error::Kind::BadInput) throw;
    resolved = "us-east-1";
  }
  return cloud::AwsClient(cloud::resolve_credentials(s), resolved);
}

}  // namespace d2l::cli
