// `d2l notebook`: a Jupyter server with a hashed password and TLS, started detached on loopback,
// listed, queried, stopped, and reached through an SSH tunnel.
#include <termios.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "../common/command.h"
#include "d2l/core/duration.h"
#include "d2l/core/error.h"
#include "d2l/ops/jupyter.h"
#include "flag_checks.h"

namespace {

using nlohmann::json;
using namespace d2l::ops;
using d2l::format_duration;

struct Opts {
  std::string dir;
  bool json = false;
  bool show_token = false;
  // cert
  std::vector<std::string> hosts;
  int days = 365;
  // start
  int port = 8888;
  std::string ip = "127.0.0.1";
  std::string root;
  double wait_s = 60;
  // stop
  std::optional<int> pid;  // not given: the only running server
  double stop_wait = 10;
  // tunnel
  std::string host, user, key;
  std::optional<int> local_port;  // not given: the same as --port
};

std::string read_secret(const char* prompt) {
  const bool tty = ::isatty(0);
  termios old{};
  if (tty) {
    std::fprintf(stderr, "%s", prompt);
    std::fflush(stderr);
    ::tcgetattr(0, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(0, TCSAFLUSH, &quiet);
  }
  std::string line;
  const bool ok = static_cast<bool>(std::getline(std::cin, line));
  if (tty) {
    ::tcsetattr(0, TCSAFLUSH, &old);
    std::fprintf(stderr, "\n");
  }
  if (!ok) throw d2l::bad_input("password: nothing to read on standard input");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::string ago(double t) {
  if (t <= 0) return "n/a";
  return format_duration(static_cast<double>(std::time(nullptr)) - t) + " ago";
}

std::string shown_url(const ServerInfo& s, bool show_token) {
  std::string u = s.local_url();
  if (!s.token.empty()) u += show_token ? "?token=" + s.token : "?token=<hidden: --show-token>";
  return u;
}

json status_json(const ServerStatus& st, bool show_token) {
  json k = json::array(), se = json::array(), te = json::array();
  for (const auto& x : st.kernels)
    k.push_back({{"id", x.id},
                 {"name", x.name},
                 {"execution_state", x.execution_state},
                 {"last_activity", x.last_activity},
                 {"connections", x.connections}});
  for (const auto& x : st.sessions)
    se.push_back({{"id", x.id}, {"path", x.path}, {"kernel_id", x.kernel_id}});
  for (const auto& x : st.terminals)
    te.push_back({{"name", x.name}, {"last_activity", x.last_activity}});
  json j = {{"url", st.info.local_url()},
            {"pid", st.info.pid},
            {"port", st.info.port},
            {"ip", st.info.hostname},
            {"secure", st.info.secure},
            {"password", st.info.password},
            {"root_dir", st.info.root_dir},
            {"version", st.info.version},
            {"runtime_file", st.info.runtime_file},
            {"reachable", st.reachable},
            {"error", st.error},
            {"started", st.started},
            {"last_activity", st.last_activity},
            {"connections", st.connections},
            {"kernels", k},
            {"sessions", se},
            {"terminals", te}};
  if (show_token) j["token"] = st.info.token;
  return j;
}

int run_password(const Opts& o) {
  const NotebookPaths p = NotebookPaths::under(o.dir);
  std::string pw;
  if (::isatty(0)) {
    pw = read_secret("Password: ");
    const std::string again = read_secret("Verify password: ");
    if (pw != again) throw d2l::bad_input("password: the two entries differ; nothing changed");
  } else {
    pw = read_secret("");
  }
  if (pw.empty()) throw d2l::bad_input("password: empty; nothing changed");
  set_password(p, pw);
  if (o.json)
    std::cout << json{{"config_file", p.config_file}, {"hash", "argon2id"}}.dump(2) << "\n";
  else
    std::printf("password hash (argon2id) written to %s (mode 0600)\n", p.config_file.c_str());
  return 0;
}

int run_cert(const Opts& o) {
  const NotebookPaths p = NotebookPaths::under(o.dir);
  setup_cert(p, o.hosts, o.days);
  if (o.json)
    std::cout << json{{"cert_file", p.cert_file}, {"key_file", p.key_file}, {"days", o.days}}.dump(
                     2)
              << "\n";
  else
    std::printf("self-signed certificate %s and key %s (mode 0600), valid %d days; set in %s\n",
                p.cert_file.c_str(), p.key_file.c_str(), o.days, p.config_file.c_str());
  return 0;
}

int run_start(const Opts& o) {
  const NotebookPaths p = NotebookPaths::under(o.dir);
  StartOptions so;
  so.port = o.port;
  so.ip = o.ip;
  so.root_dir = o.root;
  so.wait_s = o.wait_s;
  const ServerInfo s = start_server(p, so);
  const std::string tunnel = tunnel_command("HOST", "USER", "", s.port, s.port);
  if (o.json) {
    json j = {
        {"url", s.local_url()},           {"pid", s.pid},    {"port", s.port}, {"log", p.log_file},
        {"runtime_file", s.runtime_file}, {"tunnel", tunnel}};
    if (o.show_token) j["token"] = s.token;
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::printf("Jupyter server %s running, pid %d, log %s\n", s.version.c_str(), int(s.pid),
              p.log_file.c_str());
  std::printf("  URL:    %s\n", shown_url(s, o.show_token).c_str());
  std::printf("  tunnel: %s   (from your laptop; then open the URL there)\n", tunnel.c_str());
  if (::geteuid() == 0) std::printf("  running as root: --allow-root was passed (see the log)\n");
  return 0;
}

int run_status(const Opts& o) {
  const NotebookPaths p = NotebookPaths::under(o.dir);
  const auto servers = list_servers(runtime_dirs(p));
  json arr = json::array();
  for (const auto& s : servers) {
    const ServerStatus st = query_server(s, http_options_for(s, p));
    if (o.json) {
      arr.push_back(status_json(st, o.show_token));
      continue;
    }
    std::printf("%s  pid %d  %s%s  root %s\n", shown_url(s, o.show_token).c_str(), int(s.pid),
                s.secure ? "TLS" : "no TLS", s.password ? ", password" : "", s.root_dir.c_str());
    if (!st.reachable) {
      std::printf("  not answering: %s\n", st.error.c_str());
      continue;
    }
    std::printf("  started %s, last activity %s, %d connection(s)\n", st.started.c_str(),
                ago(st.last_activity_unix).c_str(), st.connections);
    for (const auto& k : st.kernels) {
      std::string path;
      for (const auto& x : st.sessions)
        if (x.kernel_id == k.id) path = x.path;
      std::printf("  kernel %.8s %-8s %-6s last activity %s, %d connection(s)%s%s\n", k.id.c_str(),
                  k.name.c_str(), k.execution_state.c_str(), ago(k.last_activity_unix).c_str(),
                  k.connections, path.empty() ? "" : ", ", path.c_str());
    }
    for (const auto& t : st.terminals)
      std::printf("  terminal %s last activity %s\n", t.name.c_str(),
                  ago(t.last_activity_unix).c_str());
    if (st.kernels.empty() && st.terminals.empty()) std::printf("  no kernels, no terminals\n");
  }
  if (o.json) {
    std::cout << json{{"servers", arr}}.dump(2) << "\n";
  } else if (servers.empty()) {
    std::printf("no Jupyter server running (looked in");
    for (const auto& d : runtime_dirs(p)) std::printf(" %s", d.c_str());
    std::printf(")\n");
  }
  return 0;
}

int run_stop(const Opts& o) {
  const NotebookPaths p = NotebookPaths::under(o.dir);
  auto servers = list_servers(runtime_dirs(p));
  if (o.pid) {
    std::vector<ServerInfo> keep;
    for (auto& s : servers)
      if (s.pid == *o.pid) keep.push_back(s);
    if (keep.empty())
      throw d2l::bad_input("stop: no Jupyter server with --pid " + std::to_string(*o.pid));
    servers = keep;
  } else if (servers.size() > 1) {
    throw d2l::bad_input("stop: " + std::to_string(servers.size()) +
                         " servers are running; say which with --pid (see d2l notebook status)");
  }
  if (servers.empty()) {
    std::printf("no Jupyter server running\n");
    return 0;
  }
  json arr = json::array();
  for (const auto& s : servers) {
    const std::string how = stop_server(s, http_options_for(s, p), o.stop_wait);
    if (o.json)
      arr.push_back({{"pid", s.pid}, {"stopped_by", how}});
    else
      std::printf("stopped Jupyter server pid %d (%s)\n", int(s.pid),
                  how == "api" ? "shut down through its API" : how.c_str());
  }
  if (o.json) std::cout << json{{"stopped", arr}}.dump(2) << "\n";
  return 0;
}

int run_tunnel(const Opts& o) {
  const int local = o.local_port.value_or(o.port);
  const std::string ssh = tunnel_command(o.host, o.user, o.key, local, o.port);
  const std::string ps = tunnel_command_powershell(o.host, o.user, o.key, local, o.port);
  if (o.json) {
    std::cout << json{{"ssh", ssh},
                      {"powershell", ps},
                      {"url", "http://127.0.0.1:" + std::to_string(local) + "/"}}
                     .dump(2)
              << "\n";
    return 0;
  }
  std::printf(
      "Linux/macOS:  %s\nPowerShell:   %s\nthen open http%s://127.0.0.1:%d/ on your laptop\n",
      ssh.c_str(), ps.c_str(), "(s)", local);
  return 0;
}

d2l::cli::Registrar reg{
    "notebook", "A Jupyter server: password, TLS certificate, start, status, stop, SSH tunnel",
    [](CLI::App& cmd) -> d2l::cli::Runner {
      auto o = std::make_shared<Opts>();
      cmd.require_subcommand(1);
      cmd.footer(
          "Files: $D2L_CONFIG_DIR/jupyter (default ~/.config/d2l/jupyter): "
          "jupyter_server_config.json\n"
          "(0600), cert.pem, key.pem (0600), runtime/, server.log.\n"
          "Tokens are never printed unless --show-token. Exit codes: 0 ok, 1 failure, 2 bad input\n"
          "(including a refused non-loopback --ip without password and TLS).");
      auto dir = [&](CLI::App* s) {
        s->add_option("--dir", o->dir, "Our Jupyter folder (default $D2L_CONFIG_DIR/jupyter)")
            ->check(d2l::cli::non_empty());
        s->add_flag("--json", o->json, "Machine-readable output");
      };
      auto* pw = cmd.add_subcommand(
          "password",
          "Set the server's password (asked twice on a terminal, else one line of stdin)");
      dir(pw);
      auto* cert = cmd.add_subcommand("cert", "Make a self-signed TLS certificate and use it");
      dir(cert);
      cert->add_option("--host", o->hosts,
                       "Name or IP in the certificate (repeat; default: hostname, localhost, "
                       "127.0.0.1, ::1)");
      cert->add_option("--days", o->days, "Validity in days (default 365)")
          ->check(d2l::cli::number_in(1, 36500));
      auto* start =
          cmd.add_subcommand("start", "Start the server detached and wait until it answers");
      dir(start);
      start->add_option("--port", o->port, "Port (default 8888)")
          ->check(d2l::cli::number_in(1, d2l::cli::kMaxPort));
      start->add_option("--ip", o->ip,
                        "Address to listen on (default 127.0.0.1; others need a password and TLS)");
      start->add_option("--root", o->root, "Notebooks' folder (default: the current folder)")
          ->check(d2l::cli::non_empty());
      start->add_option("--wait", o->wait_s, "Seconds to wait until it answers (default 60)")
          ->check(d2l::cli::positive_up_to(d2l::cli::kDaySeconds));
      start->add_flag("--show-token", o->show_token, "Print the URL with its token");
      auto* status = cmd.add_subcommand("status", "Running servers, kernels, sessions, terminals");
      dir(status);
      status->add_flag("--show-token", o->show_token, "Print the URLs with their tokens");
      auto* list = cmd.add_subcommand("list", "Same as status");
      dir(list);
      list->add_flag("--show-token", o->show_token, "Print the URLs with their tokens");
      auto* stop =
          cmd.add_subcommand("stop", "Stop a server: API shutdown, then SIGTERM, then SIGKILL");
      dir(stop);
      stop->add_option("--pid", o->pid, "Which server (when several run)")
          ->check(d2l::cli::number_in(1, 4194304));
      stop->add_option("--wait", o->stop_wait, "Seconds to wait after each step (default 10)")
          ->check(d2l::cli::positive_up_to(3600));
      auto* tunnel =
          cmd.add_subcommand("tunnel", "Print the SSH tunnel command to reach the server");
      tunnel->add_option("host", o->host, "The remote machine's address")->required();
      tunnel->add_option("--user", o->user, "Remote user (e.g. ubuntu)")
          ->check(d2l::cli::non_empty());
      tunnel->add_option("--key", o->key, "SSH private key file")->check(d2l::cli::non_empty());
      tunnel
          ->add_option("--port", o->port, "The server's port on the remote machine (default 8888)")
          ->check(d2l::cli::number_in(1, d2l::cli::kMaxPort));
      tunnel->add_option("--local-port", o->local_port, "Port on your laptop (default: the same)")
          ->check(d2l::cli::number_in(1, d2l::cli::kMaxPort));
      tunnel->add_flag("--json", o->json, "Machine-readable output");
      return [=]() -> int {
        if (pw->parsed()) return run_password(*o);
        if (cert->parsed()) return run_cert(*o);
        if (start->parsed()) return run_start(*o);
        if (status->parsed() || list->parsed()) return run_status(*o);
        if (stop->parsed()) return run_stop(*o);
        if (tunnel->parsed()) return run_tunnel(*o);
        return 2;
      };
    }};

}  // namespace
