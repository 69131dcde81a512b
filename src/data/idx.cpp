#include "d2l/data/idx.h"

#include <cstring>

#include "d2l/core/atomic_file.h"
#include "d2l/core/error.h"

#ifdef D2L_HAVE_ZLIB
#include <zlib.h>
#endif

namespace d2l::data {
namespace {

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool is_gzip(const std::string& bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

std::string gunzip(const std::string& in, const std::string& name) {
#ifdef D2L_HAVE_ZLIB
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) throw Error(name + ": cannot start gzip decoder");
  std::string out;
  out.resize(in.size() * 4 + 1024);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  std::size_t produced = 0;  // not zs.total_out: inflateReset zeroes it between gzip members
  while (true) {
    constexpr std::size_t kMaxInflated = std::size_t{2} << 30;  // no data set file is near this
    if (produced >= kMaxInflated) {
      inflateEnd(&zs);
      throw bad_input(name + ": gzip stream inflates past 2 GiB: not a data set file");
    }
    if (produced >= out.size()) out.resize(std::min(out.size() * 2, kMaxInflated + 1));
    zs.next_out = reinterpret_cast<Bytef*>(&out[produced]);
    zs.avail_out = static_cast<uInt>(std::min<std::size_t>(out.size() - produced, 1u << 30));
    rc = inflate(&zs, Z_NO_FLUSH);
    produced = static_cast<std::size_t>(reinterpret_cast<char*>(zs.next_out) - &out[0]);
    if (rc == Z_STREAM_END) {
      // Concatenated gzip members are legal: continue with the next one.
      if (zs.avail_in > 0 && is_gzip(std::string(reinterpret_cast<const char*>(zs.next_in),
                                                 std::min<uInt>(zs.avail_in, 2)))) {
        inflateReset(&zs);
        continue;
      }
      break;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
      inflateEnd(&zs);
      throw bad_input(name + ": broken gzip stream: truncated");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      const std::string msg = zs.msg ? zs.msg : "error " + std::to_string(rc);
      inflateEnd(&zs);
      throw bad_input(name + ": broken gzip stream: " + msg);
    }
  }
  out.resize(produced);
  inflateEnd(&zs);
  return out;
#else
  (void)in;
  throw Error(name + ": is gzipped, and this build has no zlib: gunzip it first");
#endif
}

std::uint32_t be32(const std::string& b, std::size_t off) {
  const auto* p = reinterpret_cast<const unsigned char*>(b.data() + off);
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

}  // namespace

std::string read_maybe_gzip(const std::string& path) {
  std::string bytes = read_file(path);
  if (is_gzip(bytes)) return gunzip(bytes, path);
  return bytes;
}

IdxArray parse_idx(const std::string& bytes, const std::string& name,
                   std::uint32_t expected_magic) {
  if (bytes.size() < 4)
    throw bad_input(name + ": truncated: " + std::to_string(bytes.size()) +
                    " bytes, no IDX header");
  const std::uint32_t magic = be32(bytes, 0);
  if (expected_magic != 0 && magic != expected_magic)
    throw bad_input(name + ": expected magic " + std::to_string(expected_magic) + ", found " +
                    std::to_string(magic));
  if ((magic >> 16) != 0 || ((magic >> 8) & 0xff) != 0x08)
    throw bad_input(name + ": not an unsigned-byte IDX file (magic " + std::to_string(magic) + ")");
  const std::uint32_t ndims = magic & 0xff;
  if (ndims == 0 || ndims > 4)
    throw bad_input(name + ": wrong dimensions: " + std::to_string(ndims) + " (expected 1 to 4)");
  const std::size_t header = 4 + 4 * std::size_t{ndims};
  if (bytes.size() < header)
    throw bad_input(name + ": truncated: header of " + std::to_string(header) +
                    " bytes, file has " + std::to_string(bytes.size()));
  IdxArray out;
  std::uint64_t count = 1;
  for (std::uint32_t i = 0; i < ndims; ++i) {
    const std::uint32_t d = be32(bytes, 4 + 4 * i);
    if (d == 0)
      throw bad_input(name + ": wrong dimensions: dimension " + std::to_string(i) + " is 0");
    if (count > (std::uint64_t{1} << 40) / d)  // checked before multiplying: no wrap-around
      throw bad_input(name + ": wrong dimensions: too large");
    count *= d;
    out.dims.push_back(d);
  }
  const std::uint64_t have = bytes.size() - header;
  if (have < count)
    throw bad_input(name + ": truncated: expected " + std::to_string(count) + " values, found " +
                    std::to_string(have));
  if (have > count)
    throw bad_input(name + ": " + std::to_string(have - count) + " bytes after the data");
  out.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return out;
}

ImageSet read_idx_images(const std::string& images_path, const std::string& labels_path,
                         const std::string& dataset, int num_classes) {
  const std::string iname = dataset + ": " + base_name(images_path);
  const std::string lname = dataset + ": " + base_name(labels_path);
  IdxArray images = parse_idx(read_maybe_gzip(images_path), iname, 2051);
  IdxArray labels = parse_idx(read_maybe_gzip(labels_path), lname, 2049);
  if (images.dims.size() != 3)
    throw bad_input(iname + ": wrong dimensions: expected n x height x width");
  if (labels.dims.size() != 1) throw bad_input(lname + ": wrong dimensions: expected n");
  if (images.dims[0] != labels.dims[0])
    throw bad_input(dataset + ": " + std::to_string(images.dims[0]) + " images in " +
                    base_name(images_path) + " but " + std::to_string(labels.dims[0]) +
                    " labels in " + base_name(labels_path));
  for (std::size_t i = 0; i < labels.data.size(); ++i)
    if (labels.data[i] >= num_classes)
      throw bad_input(lname + ": label " + std::to_string(labels.data[i]) + " at index " +
                      std::to_string(i) + " is not below " + std::to_string(num_classes));
  ImageSet set;
  set.n = images.dims[0];
  set.channels = 1;
  set.height = images.dims[1];
  set.width = images.dims[2];
  set.pixels = std::move(images.data);
  set.labels = std::move(labels.data);
  return set;
}

void parse_cifar10(const std::string& bytes, const std::string& name, ImageSet& out) {
  constexpr std::size_t kPixels = 3 * 32 * 32, kRecord = 1 + kPixels;
  if (bytes.empty()) throw bad_input(name + ": empty file");
  if (bytes.size() % kRecord != 0)
    throw bad_input(name + ": truncated: " + std::to_string(bytes.size()) +
                    " bytes is not a whole number of " + std::to_string(kRecord) + "-byte records");
  const std::size_t n = bytes.size() / kRecord;
  // All labels are checked before anything is appended: a rejected batch leaves `out` as it was.
  for (std::size_t i = 0; i < n; ++i) {
    const auto label = static_cast<std::uint8_t>(bytes[i * kRecord]);
    if (label >= 10)
      throw bad_input(name + ": label " + std::to_string(label) + " of record " +
                      std::to_string(i) + " is not below 10");
  }
  if (out.n == 0) {
    out.channels = 3;
    out.height = 32;
    out.width = 32;
  }
  out.pixels.reserve(out.pixels.size() + n * kPixels);
  out.labels.reserve(out.labels.size() + n);
  for (std::size_t i = 0; i < n; ++i) {
    out.labels.push_back(static_cast<std::uint8_t>(bytes[i * kRecord]));
    const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data() + i * kRecord + 1);
    out.pixels.insert(out.pixels.end(), p, p + kPixels);
  }
  out.n += static_cast<std::int64_t>(n);
}

ImageSet read_cifar10(const std::vector<std::string>& paths, const std::string& dataset) {
  ImageSet set;
  for (const auto& p : paths) parse_cifar10(read_maybe_gzip(p), dataset + ": " + base_name(p), set);
  return set;
}

}  // namespace d2l::data
