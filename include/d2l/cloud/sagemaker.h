#pragma once
/// \file d2l/cloud/sagemaker.h
/// SageMaker notebook instances (the appendix's section 20.2) through SageMaker's JSON API:
/// create (with an on-start lifecycle script), start, stop, describe, list, a presigned URL,
/// delete.
#include <optional>
#include <string>
#include <vector>

#include "d2l/cloud/aws.h"

namespace d2l::cloud {

/// A notebook instance as SageMaker describes it.
struct NotebookInstance {
  std::string name;           ///< its name
  std::string status;         ///< Pending, InService, Stopping, Stopped, Failed, Deleting, Updating
  std::string instance_type;  ///< `ml.t3.medium`
  std::string url;            ///< its host name (`NAME.notebook.REGION.sagemaker.aws`), "" if none
  std::string failure_reason;    ///< why it failed, "" otherwise
  std::string lifecycle_config;  ///< the lifecycle configuration's name, "" when none
  std::optional<int> volume_gb;  ///< its ML storage volume, GiB
  std::string role_arn;          ///< the IAM role it runs as (DescribeNotebookInstance only)
};

/// Throws d2l::bad_input unless `name` is a notebook instance name (letters, digits and
/// hyphens, at most 63, starting and ending with a letter or digit).
void check_notebook_name(const std::string& name);

/// Throws d2l::bad_input unless `type` is a SageMaker notebook type (`ml.` + family + size).
void check_notebook_type(const std::string& type);

/// What create_notebook() makes.
struct NotebookRequest {
  std::string name;              ///< the instance's name
  std::string instance_type;     ///< `ml.t3.medium`
  std::string role_arn;          ///< the IAM role SageMaker assumes for it (`arn:aws:iam::...`)
  std::optional<int> volume_gb;  ///< ML storage volume, GiB (5 to 16384); nullopt = SageMaker's
  /// An on-start script (shell text, run at every start); "" = none. Stored as the lifecycle
  /// configuration `NAME-on-start`; at most 16384 characters once base64-encoded.
  std::string on_start;
  /// A role made a moment ago: while SageMaker answers that it cannot assume it
  /// (ValidationException; IAM is eventually consistent), CreateNotebookInstance is tried again,
  /// after 1, 2, 4, ... seconds, for up to this long. 0: not at all.
  double role_wait_s = 0;
};

/// Creates the notebook instance (and its lifecycle configuration), tagged `d2l:managed`.
/// Throws d2l::bad_input for a bad name, type, volume or a too long script before any request;
/// AwsError for AWS's refusals.
void create_notebook(AwsClient& client, const NotebookRequest& request);

/// DescribeNotebookInstance. Throws AwsError (a missing one: `ValidationException`).
NotebookInstance describe_notebook(AwsClient& client, const std::string& name);

/// Every notebook instance in the region (ListNotebookInstances, every page).
std::vector<NotebookInstance> list_notebooks(AwsClient& client);

/// The actions on an existing notebook instance.
enum class NotebookAction { Start, Stop, Delete };

/// Starts, stops or deletes it. Throws AwsError.
void change_notebook(AwsClient& client, const std::string& name, NotebookAction action);

/// The names of the notebook instances in the client's region that run as `role_arn`
/// (ListNotebookInstances, then DescribeNotebookInstance of each), leaving out `except` and any
/// being deleted. Throws AwsError.
std::vector<std::string> notebooks_using_role(AwsClient& client, const std::string& role_arn,
                                              const std::string& except = "");

/// A presigned URL that opens its Jupyter (CreatePresignedNotebookInstanceUrl), valid for
/// `session_s` seconds of session. It carries a token: show it only to the user who asked.
std::string notebook_url(AwsClient& client, const std::string& name, int session_s = 43200);

}  // namespace d2l::cloud
