#pragma once
/// \file d2l/ops/http.h
/// A minimal HTTP(S) client over libcurl, for talking to a Jupyter server's REST API.
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace d2l::ops {

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
  double timeout_s = 5;  ///< whole-request limit, seconds
  std::string ca_file;   ///< PEM file of trusted certificates (our self-signed one); "" = system
  bool verify = true;    ///< verify the peer's certificate and host name
};

/// A client that keeps cookies between its requests (a login session). Not thread-safe.
class HttpClient {
 public:
  /// Throws d2l::Error when libcurl is missing from the build.
  explicit HttpClient(HttpOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Sends `method` (GET, POST, DELETE, ...) to `url` with extra `headers` (`Name: value`) and
  /// `body`. Redirects are not followed. Throws d2l::Error naming the URL (never a token in it)
  /// on a transport failure (refused, timeout, TLS verification).
  HttpResponse request(const std::string& method, const std::string& url,
                       const std::vector<std::string>& headers = {}, const std::string& body = "");

  /// The value of the cookie `name` this client holds, "" when none.
  std::string cookie(const std::string& name) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Percent-encodes `s` for a URL query or a form body.
std::string url_encode(const std::string& s);

}  // namespace d2l::ops
