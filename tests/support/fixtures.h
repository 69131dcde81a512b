#pragma once
// Test fixtures: temp folders, IDX/CIFAR files written by the tests themselves, running the
// d2l executables as real processes.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "d2l/core/atomic_file.h"

#ifdef D2L_TEST_HAVE_ZLIB
#include <zlib.h>
#endif

namespace d2l::test {

/// A temporary folder removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("d2l_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string str() const { return path_.string(); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
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

/// The number of lines in s (a trailing newline ends the last one).
inline int count_lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  if (!s.empty() && s.back() != '\n') ++n;
  return n;
}

}  // namespace d2l::test
