#pragma once
// Helpers shared by the viz tests: a temp dir, PNG header facts, pixel searches.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "d2l/viz/figure.h"

namespace d2l_test {

/// A fresh temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "d2l-viz-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Width and height from a PNG's IHDR; {-1, -1} when it is not a PNG.
inline std::pair<long, long> png_header_size(const std::string& bytes) {
  if (bytes.size() < 24 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n", 8) != 0 ||
      bytes.compare(12, 4, "IHDR") != 0)
    return {-1, -1};
  auto be = [&](std::size_t at) {
    return (long{static_cast<uint8_t>(bytes[at])} << 24) |
           (long{static_cast<uint8_t>(bytes[at + 1])} << 16) |
           (long{static_cast<uint8_t>(bytes[at + 2])} << 8) |
           long{static_cast<uint8_t>(bytes[at + 3])};
  };
  return {be(16), be(20)};
}

/// How many pixels are within `tol` of colour (r, g, b) in each channel.
inline long count_color(const d2l::viz::Raster& img, int r, int g, int b, int tol = 12) {
  long n = 0;
  for (std::size_t i = 0; i + 2 < img.rgb.size(); i += 3)
    if (std::abs(img.rgb[i] - r) <= tol && std::abs(img.rgb[i + 1] - g) <= tol &&
        std::abs(img.rgb[i + 2] - b) <= tol)
      ++n;
  return n;
}

/// Whether python3 can parse the file as XML (exit 0); -1 when python3 is missing.
inline int python_parses_xml(const std::string& path) {
  if (std::system("command -v python3 >/dev/null 2>&1") != 0) return -1;
  const std::string cmd =
      "python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' '" + path +
      "' 2>/dev/null";
  return std::system(cmd.c_str()) == 0 ? 1 : 0;
}

/// The text between <desc> and </desc> of an SVG written by the figure layer.
inline std::string svg_desc(const std::string& svg) {
  const auto a = svg.find("<desc>"), b = svg.find("</desc>");
  if (a == std::string::npos || b == std::string::npos || b < a) return "";
  return svg.substr(a + 6, b - a - 6);
}

#define D2L_NEED_CAIRO() \
  if (!d2l::viz::have_cairo()) GTEST_SKIP() << "built without Cairo"

}  // namespace d2l_test
