#pragma once
// Test helpers for pictures: PNG header facts, pixel counts, the text the figure layer puts in
// an SVG, and whether a file is well-formed XML.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>

#include "d2l/viz/figure.h"
#include "support/fixtures.h"

namespace d2l::test {

/// Width and height from a PNG's IHDR; {-1, -1} when it is not a PNG.
inline std::pair<long, long> png_header_size(const std::string& bytes) {
  if (bytes.size() < 24 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n", 8) != 0 ||
      bytes.compare(12, 4, "IHDR") != 0)
    return {-1, -1};
  auto be = [&](std::size_t at) {
    return (long{static_cast<std::uint8_t>(bytes[at])} << 24) |
           (long{static_cast<std::uint8_t>(bytes[at + 1])} << 16) |
           (long{static_cast<std::uint8_t>(bytes[at + 2])} << 8) |
           long{static_cast<std::uint8_t>(bytes[at + 3])};
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

/// The text between <desc> and </desc> of an SVG written by the figure layer.
inline std::string svg_desc(const std::string& svg) {
  const auto a = svg.find("<desc>"), b = svg.find("</desc>");
  if (a == std::string::npos || b == std::string::npos || b < a) return "";
  return svg.substr(a + 6, b - a - 6);
}

/// Whether python3's xml.dom.minidom parses the file (exit 0). Call through
/// D2L_EXPECT_WELL_FORMED_XML, which skips the test when python3 is missing.
inline bool python_parses_xml(const std::string& path) {
  return run("python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' '" +
             path + "'")
             .code == 0;
}

}  // namespace d2l::test

/// Skips the test when built without Cairo.
#define D2L_NEED_CAIRO() \
  if (!d2l::viz::have_cairo()) GTEST_SKIP() << "built without Cairo"

/// Expects python3 to parse PATH as XML; skips the test (naming why) when python3 is missing,
/// so a missing python3 never passes as "well-formed".
#define D2L_EXPECT_WELL_FORMED_XML(path)                                                       \
  do {                                                                                         \
    if (!d2l::test::have_program("python3"))                                                   \
      GTEST_SKIP() << "python3 is missing: cannot check that " << (path) << " is well-formed"; \
    EXPECT_TRUE(d2l::test::python_parses_xml(path)) << (path) << " is not well-formed XML";    \
  } while (0)
