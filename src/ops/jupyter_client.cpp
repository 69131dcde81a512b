// The REST client of a running server: its URL, status (kernels, sessions, terminals) and stop.
#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>

#include "d2l/core/error.h"
#include "d2l/core/paths.h"
#include "d2l/core/process.h"
#include "d2l/ops/jupyter.h"

namespace d2l::ops {

using nlohmann::json;

std::string ServerInfo::local_url() const {
  std::string host = hostname;
  if (host.empty() || host == "0.0.0.0" || host == "::" || host == "localhost" || host == "*")
    host = "127.0.0.1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  std::string base = base_url.empty() ? "/" : base_url;
  if (base.back() != '/') base += '/';
  return std::string(secure ? "https" : "http") + "://" + host + ":" + std::to_string(port) + base;
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

}  // namespace d2l::ops
