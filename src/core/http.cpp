#include "d2l/core/http.h"

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "d2l/core/error.h"

#ifdef D2L_HAVE_CURL
#include <curl/curl.h>
#endif

namespace d2l {

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

void expect_2xx(const HttpResponse& r, const std::string& method, const std::string& url) {
  if (r.status >= 200 && r.status < 300) return;
  std::string text = r.body.substr(0, 200);
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  throw Error("http: " + method + " " + redact(url) + ": HTTP " + std::to_string(r.status) +
              (text.empty() ? "" : " (" + text + ")"));
}

std::vector<std::string> with_header(std::vector<std::string> headers, const std::string& h) {
  headers.push_back(h);
  return headers;
}
}  // namespace

HttpResponse HttpClient::get_json(const std::string& url, const std::vector<std::string>& headers) {
  HttpResponse r = request("GET", url, with_header(headers, "Accept: application/json"));
  expect_2xx(r, "GET", url);
  return r;
}

HttpResponse HttpClient::post_json(const std::string& url, const std::string& json_body,
                                   const std::vector<std::string>& headers) {
  auto h = with_header(headers, "Accept: application/json");
  h.push_back("Content-Type: application/json");
  HttpResponse r = request("POST", url, h, json_body);
  expect_2xx(r, "POST", url);
  return r;
}

#ifdef D2L_HAVE_CURL

struct HttpClient::Impl {
  CURL* curl = nullptr;
  HttpOptions opts;
};

namespace {
std::string user_agent(const HttpOptions& o) {
  return o.user_agent.empty() ? std::string("d2l-cpp/") + D2L_VERSION : o.user_agent;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

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
  global_init();
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
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, impl_->opts.follow_redirects ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, user_agent(impl_->opts).c_str());
  if (!impl_->opts.aws_sigv4.empty()) {
#if LIBCURL_VERSION_NUM >= 0x074b00
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, impl_->opts.aws_sigv4.c_str());
    curl_easy_setopt(c, CURLOPT_USERPWD, impl_->opts.credentials.c_str());
#else
    throw Error("http: " + redact(url) + ": signed requests need libcurl 7.75 or later");
#endif
  }
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
  if (!impl_->opts.aws_sigv4.empty() && !impl_->opts.aws_session_token.empty())
    list =
        curl_slist_append(list, ("X-Amz-Security-Token: " + impl_->opts.aws_session_token).c_str());
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

namespace {
struct DownloadState {
  std::FILE* file = nullptr;
  bool write_failed = false;
  std::uint64_t done = 0;
  const DownloadProgress* progress = nullptr;
};

std::size_t on_file(char* p, std::size_t size, std::size_t n, void* user) {
  auto* st = static_cast<DownloadState*>(user);
  const std::size_t bytes = size * n;
  if (std::fwrite(p, 1, bytes, st->file) != bytes) {
    st->write_failed = true;
    return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
  }
  st->done += bytes;
  return bytes;
}

int on_progress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
  auto* st = static_cast<DownloadState*>(user);
  if (st->progress && *st->progress && now > 0)
    (*st->progress)(
        static_cast<std::uint64_t>(now),
        total > 0 ? std::optional<std::uint64_t>(static_cast<std::uint64_t>(total)) : std::nullopt);
  return 0;
}
}  // namespace

void download_file(const std::string& url, const std::string& path,
                   const DownloadOptions& options) {
  global_init();
  const std::string part = path + ".part";
  DownloadState st;
  st.progress = &options.progress;
  st.file = std::fopen(part.c_str(), "wb");
  if (!st.file) throw Error(part + ": cannot write: " + std::strerror(errno));
  CURL* c = curl_easy_init();
  if (!c) {
    std::fclose(st.file);
    ::unlink(part.c_str());
    throw Error("http: cannot initialise libcurl");
  }
  char err[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_file);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &st);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &st);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout_s * 1000));
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, options.low_speed_bytes);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options.low_speed_s);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(c, CURLOPT_USERAGENT, user_agent(HttpOptions{}).c_str());
  struct curl_slist* list = nullptr;
  for (const auto& h : options.headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  const CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(list);
  curl_easy_cleanup(c);
  const bool flushed = std::fflush(st.file) == 0 && ::fsync(::fileno(st.file)) == 0;
  const bool closed = std::fclose(st.file) == 0;
  std::string why;
  if (st.write_failed || (rc == CURLE_OK && (!flushed || !closed)))
    why = "cannot write " + part + ": " + std::strerror(errno);
  else if (rc != CURLE_OK)
    why = err[0] ? std::string(err) : std::string(curl_easy_strerror(rc));
  else if (status < 200 || status >= 300)
    why = "HTTP " + std::to_string(status);
  if (why.empty() && std::rename(part.c_str(), path.c_str()) != 0)
    why = "cannot rename " + part + " to " + path + ": " + std::strerror(errno);
  if (!why.empty()) {
    ::unlink(part.c_str());
    throw Error("download " + redact(url) + ": " + why);
  }
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
void download_file(const std::string& url, const std::string&, const DownloadOptions&) {
  throw Error("download " + redact(url) + ": this d2l was built without libcurl");
}

#endif

}  // namespace d2l
