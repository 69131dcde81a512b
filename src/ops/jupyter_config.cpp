// The notebook's config folder: its paths, its config file and what it says of security.
#include <nlohmann/json.hpp>
#include <string>

#include "d2l/core/atomic_file.h"
#include "d2l/core/error.h"
#include "d2l/core/paths.h"
#include "d2l/ops/jupyter.h"
#include "jupyter_internal.h"

namespace d2l::ops {
namespace detail {

nlohmann::json load_config(const NotebookPaths& paths) {
  if (!path_exists(paths.config_file)) return nlohmann::json::object();
  const std::string text = read_file(paths.config_file);
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    if (!j.is_object()) throw bad_input(paths.config_file + ": corrupt config: not a JSON object");
    return j;
  } catch (const nlohmann::json::parse_error& e) {
    throw bad_input(paths.config_file + ": corrupt config: not valid JSON at byte " +
                    std::to_string(e.byte) + " (fix or move the file; it is left untouched)");
  }
}

void save_config(const NotebookPaths& paths, const nlohmann::json& j) {
  ensure_dir(paths.dir, 0700);
  write_file_atomic(paths.config_file, j.dump(2) + "\n", 0600);
}

}  // namespace detail

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

NotebookSecurity read_security(const NotebookPaths& paths) {
  const nlohmann::json j = detail::load_config(paths);
  NotebookSecurity s;
  if (j.contains("ServerApp") && j["ServerApp"].is_object()) {
    const nlohmann::json& a = j["ServerApp"];
    s.has_password = a.contains("password") && a["password"].is_string() &&
                     !a["password"].get<std::string>().empty();
    if (a.contains("certfile") && a["certfile"].is_string()) s.certfile = a["certfile"];
    if (a.contains("keyfile") && a["keyfile"].is_string()) s.keyfile = a["keyfile"];
    s.has_tls = !s.certfile.empty() && !s.keyfile.empty() && path_exists(s.certfile) &&
                path_exists(s.keyfile);
  }
  return s;
}

}  // namespace d2l::ops
