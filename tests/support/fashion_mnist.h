#pragma once
// Test helper: reads the real Fashion-MNIST IDX files (gzipped) with zlib, for the torch-free
// slow tests and the pictures in docs/images. The library's own reader lives in d2l/data; this
// one is a few lines so the viz tests need nothing but zlib.
// D2L_TEST_HAVE_ZLIB: set by tests/CMakeLists.txt where the tests link zlib.
#ifdef D2L_TEST_HAVE_ZLIB
#include <zlib.h>
#endif

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace d2l::test {

/// Where Debian's dataset-fashion-mnist puts the files.
inline const char* kFashionDir = "/usr/share/datasets/fashion-mnist";

/// The book's names of the ten classes.
inline const std::vector<std::string> kFashionLabels = {
    "t-shirt", "trouser", "pullover", "dress", "coat",
    "sandal",  "shirt",   "sneaker",  "bag",   "ankle boot"};

/// The whole decompressed file; empty when it cannot be read (or without zlib).
inline std::string gunzip_file(const std::string& path) {
#ifndef D2L_TEST_HAVE_ZLIB
  (void)path;
  return {};  // no zlib: the tests that need the data set skip
#else
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return {};
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  gzclose(f);
  return n < 0 ? std::string() : out;
#endif
}

/// The big-endian 32-bit number at byte `at` of s.
inline std::uint32_t be32(const std::string& s, std::size_t at) {
  return (std::uint32_t{static_cast<std::uint8_t>(s[at])} << 24) |
         (std::uint32_t{static_cast<std::uint8_t>(s[at + 1])} << 16) |
         (std::uint32_t{static_cast<std::uint8_t>(s[at + 2])} << 8) |
         std::uint32_t{static_cast<std::uint8_t>(s[at + 3])};
}

/// The first `count` 28x28 images and their labels of a split ("t10k" or "train"); false when
/// the files are missing or malformed.
inline bool read_fashion(const std::string& split, std::size_t count,
                         std::vector<std::vector<std::uint8_t>>* images, std::vector<int>* labels) {
  const std::string img =
      gunzip_file(std::string(kFashionDir) + "/" + split + "-images-idx3-ubyte.gz");
  const std::string lab =
      gunzip_file(std::string(kFashionDir) + "/" + split + "-labels-idx1-ubyte.gz");
  if (img.size() < 16 || lab.size() < 8 || be32(img, 0) != 2051 || be32(lab, 0) != 2049)
    return false;
  const std::size_t n = std::min<std::size_t>({count, be32(img, 4), be32(lab, 4)});
  const std::size_t rows = be32(img, 8), cols = be32(img, 12);
  if (rows != 28 || cols != 28 || img.size() < 16 + n * 784 || lab.size() < 8 + n) return false;
  images->clear();
  labels->clear();
  for (std::size_t i = 0; i < n; ++i) {
    images->emplace_back(img.begin() + 16 + i * 784, img.begin() + 16 + (i + 1) * 784);
    labels->push_back(static_cast<std::uint8_t>(lab[8 + i]));
  }
  return true;
}

}  // namespace d2l::test
