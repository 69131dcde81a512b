#pragma once
// Shared helpers for the ops tests: temp folders, free loopback ports, running the real `d2l`,
// and an RAII guard that always kills the Jupyter servers (and their kernels) a test starts.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "d2l/core/atomic_file.h"
#include "d2l/ops/jupyter.h"

namespace ops_test {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/d2l-ops-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

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

/// Runs the real `d2l ARGS` with D2L_CONFIG_DIR=config (stdin from `input` when given);
/// returns the exit status and puts stdout+stderr in *out.
inline int run_d2l(const std::string& config, const std::string& args, std::string* out = nullptr,
                   const std::string& input = "") {
  const std::string in_file = config + "/stdin.txt";
  std::ofstream(in_file) << input;
  const std::string cmd = "D2L_CONFIG_DIR='" + config + "' timeout 120 " + D2L_BIN_DIR + "/d2l " +
                          args + " < '" + in_file + "' > '" + config + "/out.txt' 2>&1";
  const int rc = std::system(cmd.c_str());
  if (out) *out = d2l::read_file(config + "/out.txt");
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
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
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
      const std::string name = e.path().filename();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::ifstream in(e.path() / "cmdline", std::ios::binary);
      std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (!runtime_dir.empty() && cmd.find(runtime_dir + "/kernel-") != std::string::npos)
        ::kill(std::stoi(name), SIGKILL);
    }
  }
};

/// Polls `pred` every 100 ms for at most `seconds`; true when it held.
template <class F>
bool wait_for(F pred, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

}  // namespace ops_test

namespace ops_test {

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
  return std::system(("timeout 60 /usr/bin/python3 '" + py + "' '" + connection_file + "' '" +
                      code + "' " + want)
                         .c_str()) == 0;
}

}  // namespace ops_test
