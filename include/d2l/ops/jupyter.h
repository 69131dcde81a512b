#pragma once
/// \file d2l/ops/jupyter.h
/// `d2l notebook`: a real Jupyter server (Debian's jupyter-server) with a hashed password, TLS
/// with a self-signed certificate, started detached on loopback, queried over its REST API and
/// stopped cleanly.
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "d2l/core/http.h"
#include "d2l/core/process.h"  // process_alive

namespace d2l::ops {

/// The files of our Jupyter setup, all under one folder we own (default
/// `<config_dir()>/jupyter`): the server's config `jupyter_server_config.json` (0600: it holds the
/// password hash), the certificate and key, the runtime folder and the server log.
struct NotebookPaths {
  std::string dir;          ///< the folder (passed to Jupyter as JUPYTER_CONFIG_DIR)
  std::string config_file;  ///< dir/jupyter_server_config.json
  std::string runtime_dir;  ///< dir/runtime (JUPYTER_RUNTIME_DIR: jpserver-<pid>.json files)
  std::string log_file;     ///< dir/server.log
  std::string cert_file;    ///< dir/cert.pem
  std::string key_file;     ///< dir/key.pem (0600)
  /// The paths under `dir`; `dir` empty means `<config_dir()>/jupyter`.
  static NotebookPaths under(const std::string& dir = "");
};

/// Hashes `password` as Jupyter itself does and accepts:
/// `argon2:$argon2id$v=19$m=10240,t=10,p=8$<salt>$<hash>` (16-byte random salt, 32-byte hash,
/// unpadded base64). Throws d2l::Error when built without libargon2, d2l::bad_input when the
/// password is empty.
std::string hash_password(const std::string& password);

/// True when `password` matches a hash from hash_password() (argon2 form only).
bool check_password(const std::string& hashed, const std::string& password);

/// What our server config says about security.
struct NotebookSecurity {
  bool has_password = false;  ///< ServerApp.password is set
  bool has_tls = false;       ///< ServerApp.certfile and keyfile are set and exist
  std::string certfile, keyfile;
};

/// Reads the security settings of the config at `paths.config_file` (a missing file: none).
/// Throws d2l::bad_input naming the file when it is not valid JSON.
NotebookSecurity read_security(const NotebookPaths& paths);

/// Stores the hash of `password` as ServerApp.password in the config (other settings kept),
/// written atomically with mode 0600. Throws on a corrupt config (never overwritten).
void set_password(const NotebookPaths& paths, const std::string& password);

/// Makes a self-signed RSA-2048 key and X.509 certificate valid `days` days through OpenSSL's
/// API, with `hosts` (names and IP addresses) as subjectAltNames, the first as the common name.
/// Writes the key with mode 0600 and the certificate 0644, atomically.
void make_self_signed_cert(const std::string& key_file, const std::string& cert_file,
                           const std::vector<std::string>& hosts, int days = 365);

/// make_self_signed_cert() into paths.key_file/cert_file, and records them as ServerApp.certfile
/// and keyfile in the config. `hosts` empty means this host's name, `localhost`, `127.0.0.1`,
/// `::1`.
void setup_cert(const NotebookPaths& paths, std::vector<std::string> hosts = {}, int days = 365);

/// A running server, as its runtime file `jpserver-<pid>.json` describes it.
struct ServerInfo {
  std::string runtime_file;  ///< the jpserver-<pid>.json it came from
  std::string url;           ///< the server's own URL (may name 0.0.0.0 or a host name)
  std::string hostname;      ///< the ip it listens on
  int port = 0;
  bool secure = false;  ///< TLS
  std::string base_url = "/";
  std::string token;  ///< secret: never print unless asked
  std::string root_dir;
  bool password = false;  ///< a password is set
  pid_t pid = 0;
  std::string version;
  /// The URL to reach the server from this machine (loopback when it listens on all addresses).
  std::string local_url() const;
};

/// Options of start_server().
struct StartOptions {
  int port = 8888;               ///< TCP port (Jupyter's port_retries is 0: no silent change)
  std::string ip = "127.0.0.1";  ///< address to listen on
  std::string root_dir;          ///< notebooks' folder ("" = current folder)
  std::string jupyter;           ///< the jupyter-server program ("" = $D2L_JUPYTER, PATH, /usr/bin)
  double wait_s = 60;            ///< how long to wait until it answers
};

/// True when `address` is a numeric loopback address: IPv4 127.0.0.0/8 (dotted quad, as
/// inet_pton reads it), IPv6 ::1, or an IPv4-mapped ::ffff:127.x.y.z. False for anything else,
/// names included (`localhost` is a name: see is_loopback_host()), and for 0.0.0.0 and ::.
bool is_loopback_address(const std::string& address);

/// Resolves a host name to its numeric addresses (one string per address, as inet_ntop writes
/// it); empty when the name does not resolve.
using HostResolver = std::vector<std::string> (*)(const std::string& host);

/// The system's resolver (getaddrinfo: /etc/hosts, then DNS when there is one).
std::vector<std::string> resolve_host(const std::string& host);

/// True when listening on `host` (`d2l notebook start --ip`) can only be reached from this
/// machine: a numeric address is loopback by is_loopback_address(); a name must resolve (with
/// `resolve`) and every address it resolves to must be loopback. A name that does not resolve, an
/// empty string, 0.0.0.0 and :: (all addresses) are not loopback. A name is not trusted for its
/// spelling: `127.evil.example` is a name, not 127.0.0.0/8.
bool is_loopback_host(const std::string& host, HostResolver resolve = resolve_host);

/// Starts jupyter-server detached (own session, output to paths.log_file) with our config and
/// runtime folder and a fresh random token (passed by environment, never on the command line);
/// passes --allow-root only when running as root, and says so in the log. Waits until the runtime
/// file exists and /api/status answers. Refuses (d2l::bad_input, one line naming --ip, before
/// anything is created or started) an `ip` that is not is_loopback_host() unless the config has
/// both a password and TLS, saying which is missing. Throws d2l::Error with the log's
/// last line when the server dies or does not answer in time (it is then killed).
ServerInfo start_server(const NotebookPaths& paths, const StartOptions& options);

/// The runtime folders searched for servers: ours, $JUPYTER_RUNTIME_DIR,
/// ~/.local/share/jupyter/runtime.
std::vector<std::string> runtime_dirs(const NotebookPaths& paths);

/// The servers whose runtime files are in `dirs` and whose process is alive (stale files skipped).
std::vector<ServerInfo> list_servers(const std::vector<std::string>& dirs);

/// A kernel as the REST API reports it.
struct KernelState {
  std::string id, name, execution_state;  ///< execution_state: idle, busy, starting, ...
  std::string last_activity;              ///< ISO 8601 UTC as the server wrote it
  double last_activity_unix = 0;          ///< the same, Unix seconds (0 when unparsable)
  int connections = 0;                    ///< open websocket connections
};

/// A terminal as the REST API reports it.
struct TerminalState {
  std::string name, last_activity;
  double last_activity_unix = 0;
};

/// A session (notebook path bound to a kernel).
struct SessionState {
  std::string id, path, kernel_id;
};

/// What a server says about itself.
struct ServerStatus {
  ServerInfo info;
  bool reachable = false;
  std::string error;                   ///< why it is not reachable
  std::string started, last_activity;  ///< from /api/status (ISO 8601)
  double last_activity_unix = 0;
  int connections = 0;
  std::vector<KernelState> kernels;
  std::vector<SessionState> sessions;
  std::vector<TerminalState> terminals;
};

/// HTTP options for talking to `info`: for TLS, our certificate as the trusted CA when present.
HttpOptions http_options_for(const ServerInfo& info, const NotebookPaths& paths);

/// Queries /api/status, /api/kernels, /api/sessions and /api/terminals with the token.
/// Never throws for an unreachable server: `reachable` is false and `error` says why.
ServerStatus query_server(const ServerInfo& info, const HttpOptions& http);

/// Stops a server: POST /api/shutdown with its token, then SIGTERM, then SIGKILL, waiting
/// `wait_s` after each for the process to end. Removes a runtime file left behind. Returns how it
/// ended ("api", "SIGTERM", "SIGKILL"); throws d2l::Error if it survives SIGKILL.
std::string stop_server(const ServerInfo& info, const HttpOptions& http, double wait_s = 10);

/// Parses Jupyter's ISO 8601 UTC times (`2026-11-26T15:20:01.123456Z`, `...+00:00`) to Unix
/// seconds; 0 when it cannot.
double parse_iso8601(const std::string& text);

/// The SSH port-forwarding command for reaching a server on `host` at `remote_port` from
/// `local_port` on the laptop (OpenSSH; works the same in PowerShell on Windows 10+).
std::string tunnel_command(const std::string& host, const std::string& user, const std::string& key,
                           int local_port, int remote_port);
/// The same for PowerShell (quoting a Windows key path).
std::string tunnel_command_powershell(const std::string& host, const std::string& user,
                                      const std::string& key, int local_port, int remote_port);

}  // namespace d2l::ops
