#pragma once
/// \file d2l/core/http.h
/// The one HTTP(S) client, over libcurl, for every area: REST APIs (a Jupyter server's, JSON
/// in and out), downloads to a file (the data sets), and signed requests (AWS SigV4 through
/// libcurl, for the cloud tools). A build without libcurl throws d2l::Error on first use.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace d2l {

/// One HTTP response.
struct HttpResponse {
  long status = 0;                   ///< HTTP status code
  std::string body;                  ///< the body
  std::vector<std::string> headers;  ///< header lines as received (`Name: value`)
  /// The value of the first header named `name` (case-insensitive), "" when absent.
  std::string header(const std::string& name) const;
};

/// Options for requests from one client.
struct HttpOptions {
  double timeout_s = 5;           ///< whole-request limit, seconds
  std::string ca_file;            ///< PEM file of trusted certificates; "" = the system's
  bool verify = true;             ///< verify the peer's certificate and host name
  bool follow_redirects = false;  ///< follow 3xx answers (at most 10)
  std::string user_agent;         ///< "" = `d2l-cpp/VERSION`
  /// Signed requests: libcurl's CURLOPT_AWS_SIGV4 provider string, e.g.
  /// `aws:amz:us-east-1:ec2`; "" = unsigned. Needs `credentials`.
  std::string aws_sigv4;
  /// `ACCESS_KEY:SECRET_KEY` for a signed request (CURLOPT_USERPWD); never printed.
  std::string credentials;
  /// The session token of temporary credentials: sent (and signed) as `X-Amz-Security-Token`
  /// with every signed request; "" = none. Never printed.
  std::string aws_session_token;
};

/// A client that keeps cookies between its requests (a login session). Not thread-safe.
class HttpClient {
 public:
  /// Throws d2l::Error when libcurl is missing from the build.
  explicit HttpClient(HttpOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Sends `method` (GET, POST, DELETE, ...) to `url` with extra `headers` (`Name: value`, e.g. a
  /// session token or the `x-amz-*` headers of a signed request) and `body`. Any status is
  /// returned. Throws d2l::Error naming the URL (never its query, which may hold a token) on a
  /// transport failure (refused, timeout, TLS verification).
  HttpResponse request(const std::string& method, const std::string& url,
                       const std::vector<std::string>& headers = {}, const std::string& body = "");

  /// GET expecting JSON (`Accept: application/json`): the response, whose body the caller
  /// parses. Throws d2l::Error naming the URL and the status unless it is 2xx.
  HttpResponse get_json(const std::string& url, const std::vector<std::string>& headers = {});

  /// POST of a JSON text (`Content-Type: application/json`), expecting JSON back. Throws
  /// d2l::Error naming the URL and the status unless it is 2xx.
  HttpResponse post_json(const std::string& url, const std::string& json_body,
                         const std::vector<std::string>& headers = {});

  /// The value of the cookie `name` this client holds, "" when none.
  std::string cookie(const std::string& name) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Progress of a download: bytes received so far, and the total when the server said it.
using DownloadProgress =
    std::function<void(std::uint64_t done, std::optional<std::uint64_t> total)>;

/// How to download a file.
struct DownloadOptions {
  double connect_timeout_s = 20;  ///< limit for the connection, seconds
  /// Abort when fewer than `low_speed_bytes` per second arrive for `low_speed_s` seconds (a
  /// stalled transfer); there is no limit on the whole transfer's time.
  long low_speed_bytes = 1024;
  long low_speed_s = 60;
  std::vector<std::string> headers;  ///< extra request headers (`Name: value`)
  DownloadProgress progress;         ///< called as data arrives (may be empty)
};

/// Downloads `url` (following redirects) into `path`: the data go to `path + ".part"`, which is
/// renamed to `path` only when the whole body arrived with a 2xx status, so `path` is never
/// half-written; on failure the part file is removed and `path` is left as it was. Throws
/// d2l::Error naming the URL (without its query) and the fault: an HTTP status (`HTTP 404`), a
/// refused connection, a timeout, a file that cannot be written.
void download_file(const std::string& url, const std::string& path,
                   const DownloadOptions& options = {});

/// Percent-encodes `s` for a URL query or a form body.
std::string url_encode(const std::string& s);

}  // namespace d2l
