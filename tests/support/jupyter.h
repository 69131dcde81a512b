#pragma once
// Test helpers for the notebook and autostop tests: a free loopback port, an RAII guard that
// always kills the Jupyter servers (and their kernels) a test starts, and running code on a
// kernel through Debian's jupyter_client.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "d2l/ops/jupyter.h"
#include "support/fixtures.h"

namespace d2l::test {

/// A loopback TCP port nobody listens on now (the kernel's choice for port 0).
inline int free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  ::close(s);
  return port;
}

/// Kills, when it goes out of scope, every Jupyter server whose runtime file is in `runtime_dir`
/// and every kernel whose connection file is there (their command lines name the folder).
struct ServerGuard {
  std::string runtime_dir;
  explicit ServerGuard(std::string dir) : runtime_dir(std::move(dir)) {}
  ~ServerGuard() {
    for (const auto& s : d2l::ops::list_servers({runtime_dir})) {
      try {
        d2l::ops::stop_server(s, {}, 3);
      } catch (...) {
        ::kill(s.pid, SIGKILL);
      }
    }
    // kernels left behind (their argv holds -f <runtime_dir>/kernel-*.json)
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
      const std::string name = e.path().filename();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::ifstream in(e.path() / "cmdline", std::ios::binary);
      std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (!runtime_dir.empty() && cmd.find(runtime_dir + "/kernel-") != std::string::npos)
        ::kill(std::stoi(name), SIGKILL);
    }
  }
};

/// Runs `code` on a kernel through its connection file with Debian's jupyter_client (the shell
/// channel) and waits for the kernel's iopub status `want` (idle or busy). True when seen.
inline bool execute_on_kernel(const std::string& dir, const std::string& connection_file,
                              const std::string& code, const std::string& want) {
  const std::string py = dir + "/exec_on_kernel.py";
  std::ofstream(py) << "import sys\nfrom jupyter_client import BlockingKernelClient\n"
                       "c = BlockingKernelClient(connection_file=sys.argv[1])\n"
                       "c.load_connection_file(); c.start_channels()\n"
                       "c.execute(sys.argv[2])\n"
                       "while True:\n"
                       "    m = c.get_iopub_msg(timeout=30)\n"
                       "    if m['msg_type'] == 'status' and m['content']['execution_state'] == "
                       "sys.argv[3]: break\n"
                       "c.stop_channels()\n";
  return run("timeout 60 /usr/bin/python3 '" + py + "' '" + connection_file + "' '" + code + "' " +
             want)
             .code == 0;
}

}  // namespace d2l::test
