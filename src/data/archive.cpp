#include "d2l/data/archive.h"

#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "d2l/core/error.h"

#ifdef D2L_HAVE_ZLIB
#include <zlib.h>
#endif

namespace fs = std::filesystem;

namespace d2l::data {
namespace {

constexpr std::size_t kBlock = 512;

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Reads an archive's bytes, inflating gzip when the file is gzipped (zlib's gzread passes plain
// files through).
class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path) {
#ifdef D2L_HAVE_ZLIB
    gz_ = gzopen(path.c_str(), "rb");
    if (!gz_) throw bad_input(path + ": cannot open");
    gzbuffer(gz_, 1 << 17);
#else
    in_.open(path, std::ios::binary);
    if (!in_) throw bad_input(path + ": cannot open");
    char magic[2] = {0, 0};
    in_.read(magic, 2);
    if (in_.gcount() == 2 && static_cast<unsigned char>(magic[0]) == 0x1f &&
        static_cast<unsigned char>(magic[1]) == 0x8b)
      throw Error(path + ": is gzipped, and this build has no zlib: gunzip it first");
    in_.clear();
    in_.seekg(0);
#endif
  }
  ~Reader() {
#ifdef D2L_HAVE_ZLIB
    if (gz_) gzclose(gz_);
#endif
  }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Reads up to n bytes; returns how many (fewer only at the end of the data).
  std::size_t read(char* buf, std::size_t n) {
#ifdef D2L_HAVE_ZLIB
    std::size_t got = 0;
    while (got < n) {
      const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n - got, 1u << 30));
      const int r = gzread(gz_, buf + got, chunk);
      if (r < 0) {
        int code = 0;
        const char* msg = gzerror(gz_, &code);
        throw bad_input(path_ + ": broken gzip stream: " + (msg ? msg : "read error"));
      }
      if (r == 0) break;
      got += static_cast<std::size_t>(r);
    }
    if (got < n) {
      int code = 0;
      const char* msg = gzerror(gz_, &code);
      if (code != Z_OK && code != Z_STREAM_END)
        throw bad_input(path_ + ": broken gzip stream: " + (msg ? msg : "truncated"));
    }
    return got;
#else
    in_.read(buf, static_cast<std::streamsize>(n));
    return static_cast<std::size_t>(in_.gcount());
#endif
  }

 private:
  std::string path_;
#ifdef D2L_HAVE_ZLIB
  gzFile gz_ = nullptr;
#else
  std::ifstream in_;
#endif
};

std::uint64_t octal(const char* p, std::size_t len) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < len; ++i)
    if (p[i] >= '0' && p[i] <= '7') v = v * 8 + static_cast<std::uint64_t>(p[i] - '0');
  return v;
}

// A header's numeric fields hold octal digits, spaces and NULs, and its checksum field, when it
// holds one, matches the sum of its bytes (the field itself counted as spaces). A checksum left
// blank is accepted.
bool checksum_ok(const char* h) {
  for (int i : {124, 148})
    for (int k = i; k < i + (i == 124 ? 12 : 8); ++k)
      if (!(h[k] == ' ' || h[k] == '\0' || (h[k] >= '0' && h[k] <= '7'))) return false;
  bool any_digit = false;
  for (int i = 148; i < 156; ++i) any_digit = any_digit || (h[i] >= '0' && h[i] <= '7');
  if (!any_digit) return true;
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < kBlock; ++i)
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
  return sum == octal(h + 148, 8);
}

bool unsafe(const std::string& name) {
  if (name.empty() || name[0] == '/') return true;
  for (const auto& part : fs::path(name))
    if (part == "..") return true;
  return false;
}

// The value of the "path" record of a pax extended header ("LEN path=VALUE\n" records).
std::string pax_path(const std::string& data) {
  std::size_t at = 0;
  while (at < data.size()) {
    const std::size_t space = data.find(' ', at);
    if (space == std::string::npos) break;
    const std::size_t len = std::strtoull(data.c_str() + at, nullptr, 10);
    if (len == 0 || at + len > data.size()) break;
    const std::string rec = data.substr(space + 1, at + len - space - 1);
    if (rec.compare(0, 5, "path=") == 0) {
      std::string v = rec.substr(5);
      if (!v.empty() && v.back() == '\n') v.pop_back();
      return v;
    }
    at += len;
  }
  return "";
}

}  // namespace

bool is_archive_name(const std::string& path) {
  return ends_with(path, ".tar") || ends_with(path, ".tar.gz") || ends_with(path, ".tgz");
}

void extract_tar(const std::string& archive, const std::string& dir) {
  Reader in(archive);
  std::vector<char> header(kBlock);
  std::vector<char> buf(1 << 20);
  std::string long_name;  // from a GNU 'L' or pax 'x' entry, for the next member
  bool first = true;
  while (true) {
    const std::size_t got = in.read(header.data(), kBlock);
    if (got == 0 && !first) break;  // archives without the end-of-archive blocks
    if (got < kBlock) throw bad_input(archive + ": truncated tar archive");
    if (header[0] == '\0') break;  // end-of-archive block
    if (!checksum_ok(header.data()))
      throw bad_input(archive + (first ? ": not a tar archive" : ": broken tar header") +
                      " (checksum mismatch)");
    first = false;
    std::string name(header.data(), strnlen(header.data(), 100));
    if (std::memcmp(header.data() + 257, "ustar", 5) == 0) {
      const std::string prefix(header.data() + 345, strnlen(header.data() + 345, 155));
      if (!prefix.empty()) name = prefix + "/" + name;
    }
    if (static_cast<unsigned char>(header[124]) & 0x80)
      throw bad_input(archive + ": " + name + ": member too large");
    const std::uint64_t size = octal(header.data() + 124, 12);
    const char type = header[156];
    if (!long_name.empty()) {
      name = long_name;
      long_name.clear();
    }
    const std::uint64_t padded = (size + kBlock - 1) / kBlock * kBlock;
    if (type == 'L' || type == 'x') {
      if (size > (1u << 20)) throw bad_input(archive + ": oversized extended header");
      std::string data(static_cast<std::size_t>(padded), '\0');
      if (in.read(&data[0], data.size()) < data.size())
        throw bad_input(archive + ": truncated tar archive at " + name);
      data.resize(static_cast<std::size_t>(size));
      long_name = type == 'L' ? std::string(data.c_str()) : pax_path(data);
      continue;
    }
    const bool regular = type == '0' || type == '\0' || type == '7';
    std::unique_ptr<std::ofstream> out;
    fs::path dest, part;
    if (regular) {
      if (unsafe(name)) throw bad_input(archive + ": refusing unsafe path '" + name + "'");
      dest = fs::path(dir) / name;
      part = dest.string() + ".part";
      std::error_code ec;
      fs::create_directories(dest.parent_path(), ec);
      if (ec) throw Error(dest.parent_path().string() + ": cannot create: " + ec.message());
      out = std::make_unique<std::ofstream>(part, std::ios::binary | std::ios::trunc);
      if (!*out) throw Error(part.string() + ": cannot write");
    }
    std::uint64_t left = padded;
    while (left > 0) {
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
      const std::size_t n = in.read(buf.data(), want);
      if (n < want) {
        if (out) {
          out.reset();
          std::error_code ec;
          fs::remove(part, ec);
        }
        throw bad_input(archive + ": truncated tar archive at " + name);
      }
      const std::uint64_t done = padded - left;
      if (out && done < size) {
        const std::size_t useful =
            static_cast<std::size_t>(std::min<std::uint64_t>(n, size - done));
        out->write(buf.data(), static_cast<std::streamsize>(useful));
      }
      left -= n;
    }
    if (out) {
      out->close();
      if (!*out) throw Error(part.string() + ": cannot write");
      std::error_code ec;
      fs::rename(part, dest, ec);
      if (ec) throw Error(dest.string() + ": cannot write: " + ec.message());
    }
  }
}

}  // namespace d2l::data
