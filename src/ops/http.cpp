#include "d2l/ops/http.h"

#include <cctype>
#include <cstdio>
#include <mutex>

#include "d2l/core/error.h"

#ifdef D2L_HAVE_CURL
#include <curl/curl.h>
#endif

namespace d2l::ops {

std::string HttpResponse::header(const std::string& name) const {
  for (const auto& h : headers) {
    const auto colon = h.find(':');
    if (colon == std::string::npos || colon != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < colon; ++i)
      if (std::tolower(static_cast<unsigned char>(h[i])) !=
          std::tolower(static_cast<unsigned char>(name[i])))
        same = false;
    if (!same) continue;
    std::string v = h.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ')) v.erase(v.begin());
    while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.pop_back();
    return v;
  }
  return "";
}

std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

namespace {
// The URL without its query string, for error messages: a token must never reach a log.
std::string redact(const std::string& url) { return url.substr(0, url.find('?')); }
}  // namespace

#ifdef D2L_HAVE_CURL

struct HttpClient::Impl {
  CURL* curl = nullptr;
  HttpOptions opts;
};

namespace {
std::size_t on_body(char* p, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(p, size * n);
  return size * n;
}
std::size_t on_header(char* p, std::size_t size, std::size_t n, void* user) {
  std::string line(p, size * n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (!line.empty()) static_cast<std::vector<std::string>*>(user)->push_back(line);
  return size * n;
}
}  // namespace

HttpClient::HttpClient(HttpOptions options) : impl_(std::make_unique<Impl>()) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  impl_->opts = std::move(options);
  impl_->curl = curl_easy_init();
  if (!impl_->curl) throw Error("http: cannot initialise libcurl");
  curl_easy_setopt(impl_->curl, CURLOPT_COOKIEFILE, "");  // in-memory cookie engine
  curl_easy_setopt(impl_->curl, CURLOPT_NOSIGNAL, 1L);
}

HttpClient::~HttpClient() {
  if (impl_ && impl_->curl) curl_easy_cleanup(impl_->curl);
}

HttpResponse HttpClient::request(const std::string& method, const std::string& url,
                                 const std::vector<std::string>& headers, const std::string& body) {
  CURL* c = impl_->curl;
  HttpResponse r;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c, CURLOPT_NOBODY, method == "HEAD" ? 1L : 0L);
  if (method == "POST" || method == "PUT" || method == "PATCH" || !body.empty()) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  } else {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(impl_->opts.timeout_s * 1000));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(impl_->opts.timeout_s * 1000));
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, impl_->opts.verify ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, impl_->opts.verify ? 2L : 0L);
  if (!impl_->opts.ca_file.empty())
    curl_easy_setopt(c, CURLOPT_CAINFO, impl_->opts.ca_file.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.headers);
  struct curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  char err[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(list);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  if (rc != CURLE_OK)
    throw Error("http: " + method + " " + redact(url) + ": " +
                (err[0] ? std::string(err) : std::string(curl_easy_strerror(rc))));
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  return r;
}

std::string HttpClient::cookie(const std::string& name) const {
  struct curl_slist* cookies = nullptr;
  curl_easy_getinfo(impl_->curl, CURLINFO_COOKIELIST, &cookies);
  std::string value;
  for (auto* p = cookies; p; p = p->next) {
    // Netscape format: domain, flag, path, secure, expiry, name, value (tab-separated)
    std::string line = p->data;
    std::vector<std::string> f;
    std::size_t start = 0, tab;
    while ((tab = line.find('\t', start)) != std::string::npos) {
      f.push_back(line.substr(start, tab - start));
      start = tab + 1;
    }
    f.push_back(line.substr(start));
    if (f.size() >= 7 && f[5] == name) value = f[6];
  }
  curl_slist_free_all(cookies);
  return value;
}

#else

struct HttpClient::Impl {};
HttpClient::HttpClient(HttpOptions) {
  throw Error("http: this d2l was built without libcurl (install libcurl4-openssl-dev)");
}
HttpClient::~HttpClient() = default;
HttpResponse HttpClient::request(const std::string&, const std::string& url,
                                 const std::vector<std::string>&, const std::string&) {
  throw Error("http: " + redact(url) + ": built without libcurl");
}
std::string HttpClient::cookie(const std::string&) const { return ""; }

#endif

}  // namespace d2l::ops
