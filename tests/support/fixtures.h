#pragma once
// Test fixtures shared by every test folder: temp folders and fixture file-system trees,
// IDX/CIFAR files written by the tests themselves, running commands (the d2l executables, d2l
// with its own config folder) as real processes, waiting for a condition. Pictures:
// support/images.h; the real Fashion-MNIST: support/fashion_mnist.h; Jupyter servers and
// kernels: support/jupyter.h.
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "d2l/core/atomic_file.h"

#ifdef D2L_TEST_HAVE_ZLIB
#include <zlib.h>
#endif

namespace d2l::test {

/// A fresh temporary folder (mkdtemp), removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "d2l-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp " + tmpl + " failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  /// The folder.
  const std::filesystem::path& path() const { return path_; }
  /// The folder as a string.
  std::string str() const { return path_.string(); }
  /// The path of `name` inside the folder.
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/// A fixture file-system tree (/proc, /sys, /etc files written by the test) in a TempDir: the
/// root a reader takes in place of "/".
class FixtureRoot {
 public:
  /// Writes `text` to ROOT + `path` (absolute inside the tree), creating folders.
  void write(const std::string& path, const std::string& text) const {
    const std::filesystem::path p = root_ + path;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }
  /// Makes the folder ROOT + `path`.
  void mkdir(const std::string& path) const { std::filesystem::create_directories(root_ + path); }
  /// The tree's root folder.
  const std::string& root() const { return root_; }

 private:
  TempDir dir_;
  std::string root_ = dir_.str();
};

inline void put_be32(std::string& s, std::uint32_t v) {
  s += static_cast<char>(v >> 24);
  s += static_cast<char>(v >> 16);
  s += static_cast<char>(v >> 8);
  s += static_cast<char>(v);
}

/// The bytes of an IDX file.
inline std::string idx_bytes(std::uint32_t magic, const std::vector<std::uint32_t>& dims,
                             const std::vector<std::uint8_t>& data) {
  std::string s;
  put_be32(s, magic);
  for (auto d : dims) put_be32(s, d);
  s.append(reinterpret_cast<const char*>(data.data()), data.size());
  return s;
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

#ifdef D2L_TEST_HAVE_ZLIB
inline std::string gzip_bytes(const std::string& in) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(&out[0]);
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}
#endif

/// A small learnable image data set in IDX files: class k images are bright in band k.
/// Writes train-*/t10k-* files (gzipped when `gz`) into `dir`.
inline void write_fake_mnist(const std::string& dir, std::uint32_t n_train, std::uint32_t n_test,
                             bool gz = false, std::uint32_t seed = 1) {
  std::mt19937 rng(seed);
  auto make = [&](std::uint32_t n, std::vector<std::uint8_t>& px, std::vector<std::uint8_t>& lb) {
    px.assign(std::size_t{n} * 28 * 28, 0);
    lb.resize(n);
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::uint8_t k = static_cast<std::uint8_t>(rng() % 10);
      lb[i] = k;
      for (int r = 0; r < 28; ++r)
        for (int c = 0; c < 28; ++c) {
          const bool band = (r / 3) == k % 9 && (k < 9 || c < 14);
          const int noise = static_cast<int>(rng() % 60);
          px[std::size_t{i} * 784 + r * 28 + c] =
              static_cast<std::uint8_t>(band ? 195 + noise : noise);
        }
    }
  };
  std::vector<std::uint8_t> px, lb;
  auto put = [&](const std::string& name, const std::string& bytes) {
#ifdef D2L_TEST_HAVE_ZLIB
    if (gz) {
      write_bytes(dir + "/" + name + ".gz", gzip_bytes(bytes));
      return;
    }
#endif
    (void)gz;
    write_bytes(dir + "/" + name, bytes);
  };
  make(n_train, px, lb);
  put("train-images-idx3-ubyte", idx_bytes(2051, {n_train, 28, 28}, px));
  put("train-labels-idx1-ubyte", idx_bytes(2049, {n_train}, lb));
  make(n_test, px, lb);
  put("t10k-images-idx3-ubyte", idx_bytes(2051, {n_test, 28, 28}, px));
  put("t10k-labels-idx1-ubyte", idx_bytes(2049, {n_test}, lb));
}

/// Result of running a command.
struct RunResult {
  int code = -1;       ///< exit code, or 128+signal
  std::string output;  ///< stdout and stderr together
};

/// What run() captures.
enum class Capture { StdoutAndStderr, StdoutOnly };

/// Runs a shell command line and captures its output (stderr too, unless StdoutOnly: then it
/// goes to /dev/null) and exit code.
inline RunResult run(const std::string& cmd, Capture what = Capture::StdoutAndStderr) {
  RunResult r;
  const char* redirect = what == Capture::StdoutOnly ? " 2>/dev/null" : " 2>&1";
  std::FILE* p = ::popen((cmd + redirect).c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int status = ::pclose(p);
  if (WIFEXITED(status))
    r.code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    r.code = 128 + WTERMSIG(status);
  return r;
}

/// The path of a built executable (d2l, d2l-torch).
inline std::string bin(const std::string& name) { return std::string(D2L_BIN_DIR) + "/" + name; }

/// Runs the real `d2l ARGS` (120 s at most) with D2L_CONFIG_DIR=config and stdin from `input`
/// (written to config/stdin.txt; none: /dev/null); returns the exit status and puts
/// stdout+stderr in *out.
inline int run_d2l(const std::string& config, const std::string& args, std::string* out = nullptr,
                   const std::string& input = "") {
  std::string in_file = "/dev/null";
  if (!input.empty()) {
    in_file = config + "/stdin.txt";
    std::ofstream(in_file) << input;
  }
  const RunResult r = run("D2L_CONFIG_DIR='" + config + "' timeout 120 " + bin("d2l") + " " + args +
                          " < '" + in_file + "'");
  if (out) *out = r.output;
  return r.code;
}

/// Whether a program is found on PATH (`command -v`).
inline bool have_program(const std::string& name) {
  return run("command -v '" + name + "'", Capture::StdoutOnly).code == 0;
}

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

/// How many times `what` occurs in s (overlapping ones too).
inline std::size_t count_occurrences(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

/// The number of lines in s (a trailing newline ends the last one).
inline int count_lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  if (!s.empty() && s.back() != '\n') ++n;
  return n;
}

}  // namespace d2l::test
