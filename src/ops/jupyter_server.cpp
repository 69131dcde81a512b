// The Jupyter server process: finding jupyter-server, starting it detached, its runtime files.
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
#include "d2l/core/duration.h"
#include "d2l/core/error.h"
#include "d2l/core/paths.h"
#include "d2l/core/process.h"
#include "d2l/ops/jupyter.h"
#include "jupyter_internal.h"

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
using detail::random_hex;

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

}  // namespace

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
    std::string head = "[d2l notebook " + format_utc_time(std::time(nullptr)) + "] starting " +
                       exe + " on " + opt.ip + ":" + std::to_string(opt.port) + ", root " +
                       root_abs + ", config " + paths.config_file +
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

}  // namespace d2l::ops
