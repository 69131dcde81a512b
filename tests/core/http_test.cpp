// Unit tests for d2l/core/http.h against a real HTTP server: a small one of the test's own,
// listening on 127.0.0.1 on a free port in a thread. Downloads (whole, 404, redirected, cut
// short, refused), the atomic rename, JSON GET/POST, headers and the signed-request hook.
#include "d2l/core/http.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "d2l/core/atomic_file.h"
#include "d2l/core/error.h"
#include "support/fixtures.h"

using d2l::test::TempDir;
namespace fs = std::filesystem;

namespace {

/// One request as the server saw it.
struct Seen {
  std::string method, path, body;
  std::map<std::string, std::string> headers;  ///< names in lower case
};

/// A tiny HTTP/1.1 server on 127.0.0.1: one connection at a time, `Connection: close`.
class LocalServer {
 public:
  LocalServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;  // a free port
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(fd_, 8) != 0)
      throw std::runtime_error("test server: cannot listen on 127.0.0.1");
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~LocalServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  Seen last() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_;
  }
  static std::string payload() {
    std::string s;
    for (int i = 0; i < 200000; ++i) s += static_cast<char>('a' + i % 26);
    return s;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      handle(c);
      ::close(c);
    }
  }

  static void send_all(int c, const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      const ssize_t n = ::send(c, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<std::size_t>(n);
    }
  }

  static std::string reply(int status, const std::string& reason, const std::string& body,
                           const std::string& extra = "") {
    return "HTTP/1.1 " + std::to_string(status) + " " + reason +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra +
           "Connection: close\r\n\r\n" + body;
  }

  void handle(int c) {
    std::string in;
    char buf[4096];
    std::size_t head_end = std::string::npos;
    while (head_end == std::string::npos) {
      const ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return;
      in.append(buf, static_cast<std::size_t>(n));
      head_end = in.find("\r\n\r\n");
    }
    Seen s;
    const std::string head = in.substr(0, head_end);
    std::size_t line_end = head.find("\r\n");
    const std::string request_line = head.substr(0, line_end);
    const auto sp1 = request_line.find(' '), sp2 = request_line.rfind(' ');
    s.method = request_line.substr(0, sp1);
    s.path = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    while (line_end != std::string::npos && line_end < head.size()) {
      const std::size_t next = head.find("\r\n", line_end + 2);
      const std::string h = head.substr(
          line_end + 2, next == std::string::npos ? std::string::npos : next - line_end - 2);
      const auto colon = h.find(':');
      if (colon != std::string::npos) {
        std::string name = h.substr(0, colon);
        for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        std::string value = h.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(value.begin());
        s.headers[name] = value;
      }
      line_end = next;
    }
    const std::size_t want =
        s.headers.count("content-length") ? std::stoul(s.headers["content-length"]) : 0;
    s.body = in.substr(head_end + 4);
    while (s.body.size() < want) {
      const ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      s.body.append(buf, static_cast<std::size_t>(n));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_ = s;
    }
    if (s.path == "/file.bin") {
      send_all(c, reply(200, "OK", payload()));
    } else if (s.path == "/redirect") {
      send_all(c, reply(302, "Found", "", "Location: /file.bin\r\n"));
    } else if (s.path == "/truncated") {
      // promises 100000 bytes, sends 10 and hangs up
      send_all(c,
               "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n0123456789");
    } else if (s.path == "/json" && s.method == "GET") {
      send_all(c, reply(200, "OK", R"({"ok":true})", "Content-Type: application/json\r\n"));
    } else if (s.path == "/echo" && s.method == "POST") {
      send_all(c, reply(201, "Created", s.body, "Content-Type: application/json\r\n"));
    } else if (s.path == "/teapot") {
      send_all(c, reply(418, "I'm a teapot", "short and stout\n"));
    } else {
      send_all(c, reply(404, "Not Found", "not here\n"));
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  Seen last_;
};

/// A port on 127.0.0.1 where nothing listens (bound, then closed).
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const d2l::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Download, WholeFileWithProgressAndNoPartLeft) {
  LocalServer server;
  TempDir t;
  const std::string dest = t / "file.bin";
  std::uint64_t last_done = 0;
  std::optional<std::uint64_t> total;
  d2l::DownloadOptions o;
  o.progress = [&](std::uint64_t done, std::optional<std::uint64_t> all) {
    EXPECT_GE(done, last_done) << "progress only grows";
    last_done = done;
    total = all;
  };
  d2l::download_file(server.url("/file.bin"), dest, o);
  EXPECT_EQ(d2l::read_file(dest), LocalServer::payload());
  EXPECT_FALSE(fs::exists(dest + ".part"));
  EXPECT_EQ(last_done, LocalServer::payload().size());
  EXPECT_EQ(total.value_or(0), LocalServer::payload().size());
  EXPECT_EQ(server.last().headers["user-agent"].rfind("d2l-cpp/", 0), 0u)
      << server.last().headers["user-agent"];
}

TEST(Download, FollowsRedirectsAndSendsHeaders) {
  LocalServer server;
  TempDir t;
  d2l::DownloadOptions o;
  o.headers = {"X-Test: yes"};
  d2l::download_file(server.url("/redirect"), t / "f", o);
  EXPECT_EQ(d2l::read_file(t / "f"), LocalServer::payload());
  EXPECT_EQ(server.last().path, "/file.bin");
  EXPECT_EQ(server.last().headers["x-test"], "yes");
}

TEST(Download, NotFoundLeavesTheOldFileAndNoPart) {
  LocalServer server;
  TempDir t;
  const std::string dest = t / "data.gz";
  d2l::write_file_atomic(dest, "the old, good file");
  const std::string e =
      error_of([&] { d2l::download_file(server.url("/missing?token=secret"), dest); });
  EXPECT_NE(e.find("HTTP 404"), std::string::npos) << e;
  EXPECT_NE(e.find("/missing"), std::string::npos) << e;
  EXPECT_EQ(e.find("secret"), std::string::npos) << "the query never reaches a message: " << e;
  EXPECT_EQ(d2l::read_file(dest), "the old, good file");
  EXPECT_FALSE(fs::exists(dest + ".part"));
}

TEST(Download, CutShortIsAnErrorAndNothingIsRenamed) {
  LocalServer server;
  TempDir t;
  const std::string dest = t / "cut.bin";
  const std::string e = error_of([&] { d2l::download_file(server.url("/truncated"), dest); });
  EXPECT_FALSE(e.empty()) << "a body shorter than its Content-Length is a failure";
  EXPECT_FALSE(fs::exists(dest));
  EXPECT_FALSE(fs::exists(dest + ".part"));
}

TEST(Download, RefusedConnectionNamesTheUrl) {
  TempDir t;
  const std::string url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/x";
  const std::string e = error_of([&] { d2l::download_file(url, t / "x"); });
  EXPECT_NE(e.find(url), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(t / "x"));
  EXPECT_FALSE(fs::exists(t / "x.part"));
}

TEST(Download, UnwritableDestinationIsAnError) {
  LocalServer server;
  const std::string e =
      error_of([&] { d2l::download_file(server.url("/file.bin"), "/nonexistent-dir/sub/f"); });
  EXPECT_NE(e.find("/nonexistent-dir/sub/f.part"), std::string::npos) << e;
}

TEST(HttpClient, GetJsonAndStatusErrors) {
  LocalServer server;
  d2l::HttpClient c;
  const d2l::HttpResponse r = c.get_json(server.url("/json"), {"Authorization: token abc"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"ok":true})");
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(server.last().headers["accept"], "application/json");
  EXPECT_EQ(server.last().headers["authorization"], "token abc");
  const std::string e = error_of([&] { c.get_json(server.url("/teapot")); });
  EXPECT_NE(e.find("HTTP 418"), std::string::npos) << e;
  EXPECT_NE(e.find("short and stout"), std::string::npos) << "the start of the body: " << e;
  // request() itself returns any status
  EXPECT_EQ(c.request("GET", server.url("/missing")).status, 404);
}

TEST(HttpClient, PostJsonSendsTheBodyAndType) {
  LocalServer server;
  d2l::HttpClient c;
  const d2l::HttpResponse r = c.post_json(server.url("/echo"), R"({"n":1})");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, R"({"n":1})");
  EXPECT_EQ(server.last().method, "POST");
  EXPECT_EQ(server.last().headers["content-type"], "application/json");
}

TEST(HttpClient, RefusedConnectionThrowsNamingTheUrl) {
  d2l::HttpOptions o;
  o.timeout_s = 5;
  d2l::HttpClient c(o);
  const std::string url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/api?token=s";
  const std::string e = error_of([&] { c.request("GET", url); });
  EXPECT_NE(e.find("/api"), std::string::npos) << e;
  EXPECT_EQ(e.find("token=s"), std::string::npos) << e;
}

TEST(HttpClient, RedirectsOnlyWhenAsked) {
  LocalServer server;
  EXPECT_EQ(d2l::HttpClient().request("GET", server.url("/redirect")).status, 302);
  d2l::HttpOptions o;
  o.follow_redirects = true;
  EXPECT_EQ(d2l::HttpClient(o).request("GET", server.url("/redirect")).status, 200);
}

TEST(HttpClient, SignedRequestCarriesAnAwsSignature) {
  LocalServer server;
  d2l::HttpOptions o;
  o.aws_sigv4 = "aws:amz:us-east-1:ec2";
  o.credentials = "AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  d2l::HttpClient c(o);
  c.request("GET", server.url("/json"));
  const std::string auth = server.last().headers["authorization"];
  EXPECT_EQ(auth.rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 0), 0u) << auth;
  EXPECT_NE(auth.find("/us-east-1/ec2/aws4_request"), std::string::npos) << auth;
  EXPECT_NE(auth.find("Signature="), std::string::npos) << auth;
  EXPECT_EQ(auth.find("wJalrXUtnFEMI"), std::string::npos) << "the secret is never sent";
  EXPECT_FALSE(server.last().headers["x-amz-date"].empty());
}

TEST(Http, UrlEncodeAndHeaderLookup) {
  EXPECT_EQ(d2l::url_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
  EXPECT_EQ(d2l::url_encode("Az09-_.~"), "Az09-_.~");
  d2l::HttpResponse r;
  r.headers = {"HTTP/1.1 200 OK", "Content-Type: text/plain\r", "X-A:  1 "};
  EXPECT_EQ(r.header("content-type"), "text/plain");
  EXPECT_EQ(r.header("x-a"), "1");
  EXPECT_EQ(r.header("missing"), "");
}
