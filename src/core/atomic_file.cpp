#include "d2l/core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "d2l/core/error.h"

namespace d2l {
namespace {

std::string dir_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

void write_file_atomic(const std::string& path, const std::string& contents, unsigned mode) {
  if (path.empty()) throw bad_input("write: empty file name");
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rng() % 1000000000ULL);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) throw Error(path + ": cannot write: " + errno_text());
  ::fchmod(fd, mode);  // umask must not widen or narrow what we asked for
  const char* p = contents.data();
  std::size_t left = contents.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = errno_text();
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error(path + ": cannot write: " + why);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string why = errno_text();
    ::unlink(tmp.c_str());
    throw Error(path + ": cannot write: " + why);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = errno_text();
    ::unlink(tmp.c_str());
    throw Error(path + ": cannot replace: " + why);
  }
  const int dfd = ::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& writer,
                       unsigned mode) {
  std::ostringstream out;
  writer(out);
  write_file_atomic(path, out.str(), mode);
}

std::string read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw bad_input(path + ": cannot open: " + errno_text());
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw bad_input(path +
                    ": cannot read: " + (S_ISDIR(st.st_mode) ? "is a folder" : errno_text()));
  }
  std::string out;
  out.resize(st.st_size > 0 ? static_cast<std::size_t>(st.st_size) : 0);
  std::size_t have = 0;
  while (true) {
    if (have == out.size()) out.resize(out.size() + 65536);  // size unknown or file grew
    const ssize_t n = ::read(fd, &out[have], out.size() - have);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = errno_text();
      ::close(fd);
      throw bad_input(path + ": read error: " + why);
    }
    if (n == 0) break;
    have += static_cast<std::size_t>(n);
  }
  ::close(fd);
  out.resize(have);
  return out;
}

}  // namespace d2l
