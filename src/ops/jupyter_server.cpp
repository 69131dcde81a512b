#include "d2l/ops/jupyter.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "d2l/core/atomic_file.h"
#include "d2l/core/error.h"
#include "d2l/core/paths.h"
#include "d2l/core/process.h"

#ifdef D2L_HAVE_ARGON2
#include <argon2.h>
#endif
#ifdef D2L_HAVE_OPENSSL
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#endif

extern char** environ;  // the server inherits our environment, less Jupyter's own variables

namespace d2l::ops {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Jupyter's own parameters (jupyter_server.auth.security.passwd, argon2-cffi defaults).
constexpr std::uint32_t kArgonTime = 10;
constexpr std::uint32_t kArgonMemoryKiB = 10240;
constexpr std::uint32_t kArgonLanes = 8;
constexpr std::size_t kArgonSaltBytes = 16;
constexpr std::size_t kArgonHashBytes = 16;

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  std::ifstream in("/dev/urandom", std::ios::binary);
  if (!in.read(out.data(), static_cast<std::streamsize>(n)))
    throw Error("/dev/urandom: cannot read random bytes");
  return out;
}

std::string random_hex(std::size_t bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : random_bytes(bytes)) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

json load_config(const NotebookPaths& paths) {
  if (!path_exists(paths.config_file)) return json::object();
  const std::string text = read_file(paths.config_file);
  try {
    json j = json::parse(text);
    if (!j.is_object()) throw bad_input(paths.config_file + ": corrupt config: not a JSON object");
    return j;
  } catch (const json::parse_error& e) {
    throw bad_input(paths.config_file + ": corrupt config: not valid JSON at byte " +
                    std::to_string(e.byte) + " (fix or move the file; it is left untouched)");
  }
}

void save_config(const NotebookPaths& paths, const json& j) {
  ensure_dir(paths.dir, 0700);
  write_file_atomic(paths.config_file, j.dump(2) + "\n", 0600);
}

void sleep_s(double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); }

std::string last_line_of(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

std::string find_jupyter(const std::string& given) {
  if (!given.empty()) return given;
  if (const char* e = std::getenv("D2L_JUPYTER"); e && *e) return e;
  if (const char* path = std::getenv("PATH")) {
    std::string p = path;
    std::size_t start = 0;
    while (start <= p.size()) {
      const auto colon = p.find(':', start);
      const std::string dir =
          p.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
      if (!dir.empty() && ::access((dir + "/jupyter-server").c_str(), X_OK) == 0)
        return dir + "/jupyter-server";
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
  }
  return "/usr/bin/jupyter-server";
}

ServerInfo parse_runtime_file(const std::string& path) {
  const json j = json::parse(read_file(path));
  ServerInfo s;
  s.runtime_file = path;
  s.url = j.value("url", "");
  s.hostname = j.value("hostname", "");
  s.port = j.value("port", 0);
  s.secure = j.value("secure", false);
  s.base_url = j.value("base_url", "/");
  s.token = j.value("token", "");
  s.root_dir = j.value("root_dir", "");
  s.password = j.value("password", false);
  s.pid = static_cast<pid_t>(j.value("pid", 0));
  s.version = j.value("version", "");
  return s;
}

std::string local_hostname() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

}  // namespace

NotebookPaths NotebookPaths::under(const std::string& dir) {
  NotebookPaths p;
  p.dir = dir.empty() ? config_dir() + "/jupyter" : dir;
  p.config_file = p.dir + "/jupyter_server_config.json";
  p.runtime_dir = p.dir + "/runtime";
  p.log_file = p.dir + "/server.log";
  p.cert_file = p.dir + "/cert.pem";
  p.key_file = p.dir + "/key.pem";
  return p;
}

std::string hash_password(const std::string& password) {
  if (password.empty()) throw bad_input("password: empty");
#ifdef D2L_HAVE_ARGON2
  const std::string salt = random_bytes(kArgonSaltBytes);
  const std::size_t len = argon2_encodedlen(kArgonTime, kArgonMemoryKiB, kArgonLanes,
                                            kArgonSaltBytes, kArgonHashBytes, Argon2_id);
  std::string encoded(len, '\0');
  const int rc = argon2id_hash_encoded(kArgonTime, kArgonMemoryKiB, kArgonLanes, password.data(),
                                       password.size(), salt.data(), salt.size(), kArgonHashBytes,
                                       encoded.data(), encoded.size());
  if (rc != ARGON2_OK) throw Error(std::string("argon2: ") + argon2_error_message(rc));
  encoded.resize(std::strlen(encoded.c_str()));
  return "argon2:" + encoded;
#else
  throw Error("password: this d2l was built without libargon2 (install libargon2-dev)");
#endif
}

bool check_password(const std::string& hashed, const std::string& password) {
#ifdef D2L_HAVE_ARGON2
  const std::string prefix = "argon2:";
  if (hashed.compare(0, prefix.size(), prefix) != 0) return false;
  const std::string enc = hashed.substr(prefix.size());
  return argon2id_verify(enc.c_str(), password.data(), password.size()) == ARGON2_OK;
#else
  (void)hashed;
  (void)password;
  throw Error("password: this d2l was built without libargon2 (install libargon2-dev)");
#endif
}

NotebookSecurity read_security(const NotebookPaths& paths) {
  const json j = load_config(paths);
  NotebookSecurity s;
  if (j.contains("ServerApp") && j["ServerApp"].is_object()) {
    const json& a = j["ServerApp"];
    s.has_password = a.contains("password") && a["password"].is_string() &&
                     !a["password"].get<std::string>().empty();
    if (a.contains("certfile") && a["certfile"].is_string()) s.certfile = a["certfile"];
    if (a.contains("keyfile") && a["keyfile"].is_string()) s.keyfile = a["keyfile"];
    s.has_tls = !s.certfile.empty() && !s.keyfile.empty() && path_exists(s.certfile) &&
                path_exists(s.keyfile);
  }
  return s;
}

void set_password(const NotebookPaths& paths, const std::string& password) {
  json j = load_config(paths);  // throws on a corrupt config: never overwrite it
  const std::string h = hash_password(password);
  j["ServerApp"]["password"] = h;
  save_config(paths, j);
}

void make_self_signed_cert(const std::string& key_file, const std::string& cert_file,
                           const std::vector<std::string>& hosts, int days) {
  if (hosts.empty()) throw bad_input("cert: no host names");
  if (days <= 0) throw bad_input("cert: days must be more than 0");
#ifdef D2L_HAVE_OPENSSL
  struct Guard {
    EVP_PKEY* key = nullptr;
    X509* x = nullptr;
    ~Guard() {
      X509_free(x);
      EVP_PKEY_free(key);
    }
  } g;
  auto fail = [](const std::string& what) { throw Error("cert: " + what + " failed (OpenSSL)"); };
  g.key = EVP_RSA_gen(2048);
  if (!g.key) fail("RSA key generation");
  g.x = X509_new();
  if (!g.x) fail("X509_new");
  X509_set_version(g.x, 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) fail("RAND_bytes");
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(g.x));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(g.x), -300);
  X509_gmtime_adj(X509_getm_notAfter(g.x), static_cast<long>(days) * 86400L);
  X509_set_pubkey(g.x, g.key);
  X509_NAME* name = X509_get_subject_name(g.x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("d2l notebook"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(hosts[0].c_str()), -1, -1, 0);
  X509_set_issuer_name(g.x, name);
  std::string san;
  for (const auto& h : hosts) {
    unsigned char buf[16];
    const bool ip =
        ::inet_pton(AF_INET, h.c_str(), buf) == 1 || ::inet_pton(AF_INET6, h.c_str(), buf) == 1;
    san += (san.empty() ? "" : ",") + std::string(ip ? "IP:" : "DNS:") + h;
  }
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, g.x, g.x, nullptr, nullptr, 0);
  const std::pair<int, std::string> exts[] = {
      {NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
      {NID_key_usage, "critical,digitalSignature,keyEncipherment,keyCertSign"},
      {NID_ext_key_usage, "serverAuth"},
      {NID_subject_key_identifier, "hash"},
      {NID_subject_alt_name, san},
  };
  for (const auto& [nid, value] : exts) {
    X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str());
    if (!ext) fail("extension " + value);
    X509_add_ext(g.x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (!X509_sign(g.x, g.key, EVP_sha256())) fail("X509_sign");
  auto to_pem = [&](bool key) {
    BIO* bio = BIO_new(BIO_s_mem());
    const int ok = key ? PEM_write_bio_PrivateKey(bio, g.key, nullptr, nullptr, 0, nullptr, nullptr)
                       : PEM_write_bio_X509(bio, g.x);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(n > 0 ? n : 0));
    BIO_free(bio);
    if (!ok) fail("PEM write");
    return out;
  };
  write_file_atomic(key_file, to_pem(true), 0600);
  write_file_atomic(cert_file, to_pem(false), 0644);
#else
  (void)key_file;
  (void)cert_file;
  throw Error("cert: this d2l was built without OpenSSL (install libssl-dev)");
#endif
}

void setup_cert(const NotebookPaths& paths, std::vector<std::string> hosts, int days) {
  json j = load_config(paths);  // fail before writing anything when the config is corrupt
  if (hosts.empty()) {
    const std::string h = local_hostname();
    if (!h.empty() && h != "localhost") hosts.push_back(h);
    hosts.insert(hosts.end(), {"localhost", "127.0.0.1", "::1"});
  }
  ensure_dir(paths.dir, 0700);
  make_self_signed_cert(paths.key_file, paths.cert_file, hosts, days);
  j["ServerApp"]["certfile"] = paths.cert_file;
  j["ServerApp"]["keyfile"] = paths.key_file;
  save_config(paths, j);
}

namespace {

bool loopback_in4(const in_addr& a) { return (ntohl(a.s_addr) >> 24) == 127; }

bool loopback_in6(const in6_addr& a) {
  if (IN6_IS_ADDR_LOOPBACK(&a)) return true;
  if (IN6_IS_ADDR_V4MAPPED(&a)) {
    in_addr v4{};
    std::memcpy(&v4.s_addr, a.s6_addr + 12, 4);
    return loopback_in4(v4);
  }
  return false;
}

}  // namespace

bool is_loopback_address(const std::string& address) {
  in_addr v4{};
  if (::inet_pton(AF_INET, address.c_str(), &v4) == 1) return loopback_in4(v4);
  in6_addr v6{};
  if (::inet_pton(AF_INET6, address.c_str(), &v6) == 1) return loopback_in6(v6);
  return false;
}

std::vector<std::string> resolve_host(const std::string& host) {
  std::vector<std::string> out;
  if (host.empty()) return out;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0) return out;
  for (const addrinfo* a = res; a; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* where = nullptr;
    if (a->ai_family == AF_INET)
      where = &reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr;
    else if (a->ai_family == AF_INET6)
      where = &reinterpret_cast<const sockaddr_in6*>(a->ai_addr)->sin6_addr;
    if (where && ::inet_ntop(a->ai_family, where, text, sizeof text))
      out.emplace_back(text);
    else
      out.emplace_back("?");  // an address family we cannot judge: never loopback
  }
  ::freeaddrinfo(res);
  return out;
}

bool is_loopback_host(const std::string& host, HostResolver resolve) {
  if (host.empty()) return false;
  in_addr v4{};
  in6_addr v6{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1 || ::inet_pton(AF_INET6, host.c_str(), &v6) == 1)
    return is_loopback_address(host);
  const std::vector<std::string> addresses = resolve ? resolve(host) : std::vector<std::string>{};
  if (addresses.empty()) return false;
  for (const auto& a : addresses)
    if (!is_loopback_address(a)) return false;
  return true;
}

std::string ServerInfo::local_url() const {
  std::string host = hostname;
  if (host.empty() || host == "0.0.0.0" || host == "::" || host == "localhost" || host == "*")
    host = "127.0.0.1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  std::string base = base_url.empty() ? "/" : base_url;
  if (base.back() != '/') base += '/';
  return std::string(secure ? "https" : "http") + "://" + host + ":" + std::to_string(port) + base;
}

ServerInfo start_server(const NotebookPaths& paths, const StartOptions& opt) {
  if (opt.port <= 0 || opt.port > 65535)
    throw bad_input("start: port " + std::to_string(opt.port) + " is not in 1..65535");
  const NotebookSecurity sec = read_security(paths);
  if (!is_loopback_host(opt.ip)) {
    std::string missing;
    if (!sec.has_password) missing = "no password (run: d2l notebook password)";
    if (!sec.has_tls)
      missing += std::string(missing.empty() ? "" : " and ") +
                 "no TLS certificate (run: d2l notebook cert)";
    if (!missing.empty())
      throw bad_input("start: refusing --ip '" + opt.ip +
                      "': not a loopback address (nor a name that resolves only to loopback), "
                      "so reachable from the network, and there is " +
                      missing +
                      "; listen on 127.0.0.1 and use an SSH tunnel (d2l notebook tunnel HOST)");
  }
  const std::string root = opt.root_dir.empty() ? "." : opt.root_dir;
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw bad_input("start: --root " + root + " is not a folder");
  char real[PATH_MAX];
  const std::string root_abs = ::realpath(root.c_str(), real) ? real : root;
  ensure_dir(paths.dir, 0700);
  ensure_dir(paths.runtime_dir, 0700);
  ::chmod(paths.runtime_dir.c_str(), 0700);

  const std::string exe = find_jupyter(opt.jupyter);
  if (::access(exe.c_str(), X_OK) != 0)
    throw Error("start: " + exe + " not found (install Debian's jupyter-server: scripts/setup)");
  const bool root_user = ::geteuid() == 0;
  std::vector<std::string> args = {exe,
                                   "--no-browser",
                                   "--ServerApp.ip=" + opt.ip,
                                   "--ServerApp.port=" + std::to_string(opt.port),
                                   "--ServerApp.port_retries=0",
                                   "--ServerApp.root_dir=" + root_abs};
  if (root_user) args.push_back("--allow-root");
  const std::string token = random_hex(24);

  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e) {
    const std::string kv = *e;
    if (kv.rfind("JUPYTER_CONFIG_DIR=", 0) == 0 || kv.rfind("JUPYTER_RUNTIME_DIR=", 0) == 0 ||
        kv.rfind("JUPYTER_TOKEN=", 0) == 0 || kv.rfind("JUPYTER_TOKEN_FILE=", 0) == 0)
      continue;
    env_store.push_back(kv);
  }
  env_store.push_back("JUPYTER_CONFIG_DIR=" + paths.dir);
  env_store.push_back("JUPYTER_RUNTIME_DIR=" + paths.runtime_dir);
  env_store.push_back("JUPYTER_TOKEN=" + token);

  const int log = ::open(paths.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log < 0) throw Error(paths.log_file + ": cannot open log: " + std::strerror(errno));
  {
    const std::time_t now = std::time(nullptr);
    char when[64];
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    std::string head = std::string("[d2l notebook ") + when + "] starting " + exe + " on " +
                       opt.ip + ":" + std::to_string(opt.port) + ", root " + root_abs +
                       ", config " + paths.config_file +
                       (sec.has_password ? ", password set" : ", no password") +
                       (sec.has_tls ? ", TLS" : ", no TLS") + "\n";
    if (root_user)
      head +=
          "[d2l notebook] running as root: passing --allow-root (Jupyter refuses root "
          "without it)\n";
    if (::write(log, head.data(), head.size()) < 0) {
    }
  }

  DetachedOptions detached;
  detached.env = env_store;
  detached.output_fd = log;
  pid_t pid = 0;
  try {
    pid = spawn_detached(args, detached);
  } catch (const Error&) {
    ::close(log);
    throw;
  }
  ::close(log);

  const std::string runtime_file = paths.runtime_dir + "/jpserver-" + std::to_string(pid) + ".json";
  const auto deadline = Clock::now() + std::chrono::duration<double>(opt.wait_s);
  std::string last_error = "no runtime file yet";
  while (Clock::now() < deadline) {
    if (!process_alive(pid))
      throw Error("start: jupyter-server exited: " + last_line_of(paths.log_file) +
                  " (log: " + paths.log_file + ")");
    if (path_exists(runtime_file)) {
      try {
        ServerInfo info = parse_runtime_file(runtime_file);
        HttpClient http(http_options_for(info, paths));
        const auto r = http.request("GET", info.local_url() + "api/status",
                                    {"Authorization: token " + info.token});
        if (r.status == 200) return info;
        last_error = "/api/status answered " + std::to_string(r.status);
      } catch (const std::exception& e) {
        last_error = e.what();
      }
    }
    sleep_s(0.2);
  }
  ::kill(static_cast<pid_t>(pid), SIGKILL);
  wait_gone(pid, 5);
  throw Error("start: jupyter-server did not answer within " + std::to_string(int(opt.wait_s)) +
              " s (" + last_error + "); killed it (log: " + paths.log_file + ")");
}

std::vector<std::string> runtime_dirs(const NotebookPaths& paths) {
  std::vector<std::string> dirs = {paths.runtime_dir};
  if (const char* e = std::getenv("JUPYTER_RUNTIME_DIR"); e && *e) dirs.emplace_back(e);
  if (const char* h = std::getenv("HOME"); h && *h)
    dirs.push_back(std::string(h) + "/.local/share/jupyter/runtime");
  return dirs;
}

std::vector<ServerInfo> list_servers(const std::vector<std::string>& dirs) {
  std::vector<ServerInfo> out;
  std::vector<std::string> seen;
  for (const auto& d : dirs) {
    DIR* dir = ::opendir(d.c_str());
    if (!dir) continue;
    while (dirent* ent = ::readdir(dir)) {
      const std::string name = ent->d_name;
      if (name.rfind("jpserver-", 0) != 0 || name.size() < 6 ||
          name.compare(name.size() - 5, 5, ".json") != 0)
        continue;
      try {
        ServerInfo s = parse_runtime_file(d + "/" + name);
        if (!process_alive(s.pid)) continue;
        bool dup = false;
        for (const auto& o : out) dup = dup || o.pid == s.pid;
        if (!dup) out.push_back(std::move(s));
      } catch (const std::exception&) {
        continue;  // a file being written, or not Jupyter's
      }
    }
    ::closedir(dir);
  }
  return out;
}

HttpOptions http_options_for(const ServerInfo& info, const NotebookPaths& paths) {
  HttpOptions o;
  o.timeout_s = 5;
  if (info.secure) {
    const NotebookSecurity sec = read_security(paths);
    if (!sec.certfile.empty() && path_exists(sec.certfile))
      o.ca_file = sec.certfile;
    else if (path_exists(paths.cert_file))
      o.ca_file = paths.cert_file;
  }
  return o;
}

double parse_iso8601(const std::string& text) {
  int y, mo, d, h, mi;
  double s;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%lf", &y, &mo, &d, &h, &mi, &s) != 6) return 0;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  const double whole = std::floor(s);
  tm.tm_sec = static_cast<int>(whole);
  double t = static_cast<double>(timegm(&tm)) + (s - whole);
  // an explicit offset other than Z/+00:00
  const auto tpos = text.find('T');
  const auto sign = text.find_first_of("+-", tpos == std::string::npos ? 0 : tpos);
  if (sign != std::string::npos) {
    int oh = 0, om = 0;
    if (std::sscanf(text.c_str() + sign + 1, "%d:%d", &oh, &om) >= 1)
      t -= (text[sign] == '+' ? 1 : -1) * (oh * 3600.0 + om * 60.0);
  }
  return t;
}

ServerStatus query_server(const ServerInfo& info, const HttpOptions& http_opts) {
  ServerStatus st;
  st.info = info;
  try {
    HttpClient http(http_opts);
    const std::string base = info.local_url();
    const std::vector<std::string> auth = {"Authorization: token " + info.token};
    auto get = [&](const std::string& what) {
      const auto r = http.request("GET", base + what, auth);
      if (r.status != 200)
        throw Error(what + " answered HTTP " + std::to_string(r.status) +
                    (r.status == 403 ? " (the token is not accepted)" : ""));
      return json::parse(r.body);
    };
    const json s = get("api/status");
    st.started = s.value("started", "");
    st.last_activity = s.value("last_activity", "");
    st.last_activity_unix = parse_iso8601(st.last_activity);
    st.connections = s.value("connections", 0);
    for (const auto& k : get("api/kernels")) {
      KernelState ks;
      ks.id = k.value("id", "");
      ks.name = k.value("name", "");
      ks.execution_state = k.value("execution_state", "");
      ks.last_activity = k.value("last_activity", "");
      ks.last_activity_unix = parse_iso8601(ks.last_activity);
      ks.connections = k.value("connections", 0);
      st.kernels.push_back(ks);
    }
    for (const auto& x : get("api/sessions")) {
      SessionState ss;
      ss.id = x.value("id", "");
      ss.path = x.value("path", "");
      if (x.contains("kernel") && x["kernel"].is_object())
        ss.kernel_id = x["kernel"].value("id", "");
      st.sessions.push_back(ss);
    }
    try {
      for (const auto& t : get("api/terminals")) {
        TerminalState ts;
        ts.name = t.value("name", "");
        ts.last_activity = t.value("last_activity", "");
        ts.last_activity_unix = parse_iso8601(ts.last_activity);
        st.terminals.push_back(ts);
      }
    } catch (const Error&) {
      // terminals disabled (no terminado): 404; not an error for the rest
    }
    st.reachable = true;
  } catch (const std::exception& e) {
    st.reachable = false;
    st.error = e.what();
  }
  return st;
}

std::string stop_server(const ServerInfo& info, const HttpOptions& http_opts, double wait_s) {
  std::string how;
  if (!process_alive(info.pid)) {
    how = "already gone";
  } else {
    try {
      HttpClient http(http_opts);
      const auto r = http.request("POST", info.local_url() + "api/shutdown",
                                  {"Authorization: token " + info.token});
      if (r.status >= 200 && r.status < 300 && wait_gone(info.pid, wait_s)) how = "api";
    } catch (const std::exception&) {
    }
    if (how.empty()) {
      ::kill(info.pid, SIGTERM);
      if (wait_gone(info.pid, wait_s)) how = "SIGTERM";
    }
    if (how.empty()) {
      ::kill(info.pid, SIGKILL);
      if (wait_gone(info.pid, wait_s)) how = "SIGKILL";
    }
    if (how.empty())
      throw Error("stop: jupyter-server pid " + std::to_string(info.pid) + " survived SIGKILL");
  }
  if (!info.runtime_file.empty() && path_exists(info.runtime_file))
    ::unlink(info.runtime_file.c_str());
  return how;
}

std::string tunnel_command(const std::string& host, const std::string& user, const std::string& key,
                           int local_port, int remote_port) {
  std::string cmd =
      "ssh -N -L " + std::to_string(local_port) + ":127.0.0.1:" + std::to_string(remote_port);
  if (!key.empty()) cmd += " -i '" + key + "'";
  cmd += " " + (user.empty() ? "" : user + "@") + host;
  return cmd;
}

std::string tunnel_command_powershell(const std::string& host, const std::string& user,
                                      const std::string& key, int local_port, int remote_port) {
  std::string cmd =
      "ssh.exe -N -L " + std::to_string(local_port) + ":127.0.0.1:" + std::to_string(remote_port);
  if (!key.empty()) cmd += " -i \"" + key + "\"";
  cmd += " " + (user.empty() ? "" : user + "@") + host;
  return cmd;
}

}  // namespace d2l::ops
