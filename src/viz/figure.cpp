// The parts of the figure layer that need no Cairo: colours, formats, colour maps, file formats.
// Without Cairo it also provides render_figure()/read_png() that throw.
#include "d2l/viz/figure.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "d2l/core/atomic_file.h"
#include "d2l/core/error.h"

namespace d2l::viz {
namespace {

Rgb hex(unsigned v) {
  return {((v >> 16) & 0xff) / 255.0, ((v >> 8) & 0xff) / 255.0, (v & 0xff) / 255.0};
}

// matplotlib's default property cycle ("tab10").
constexpr unsigned kCycle[] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                               0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Rgb lerp_table(const unsigned* table, int n, double t) {
  if (!(t >= 0)) t = 0;  // NaN too
  if (t > 1) t = 1;
  const double pos = t * (n - 1);
  const int i = std::min(n - 2, static_cast<int>(pos));
  const double f = pos - i;
  const Rgb a = hex(table[i]), b = hex(table[i + 1]);
  return {a.r + (b.r - a.r) * f, a.g + (b.g - a.g) * f, a.b + (b.b - a.b) * f};
}

}  // namespace

Rgb cycle_color(std::size_t i) { return hex(kCycle[i % 10]); }

Rgb parse_color(const std::string& spec) {
  if (spec.size() == 7 && spec[0] == '#') {
    unsigned v = 0;
    for (std::size_t i = 1; i < 7; ++i) {
      const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(spec[i])));
      if (!std::isxdigit(static_cast<unsigned char>(c))) throw bad_input("colour '" + spec + "'");
      v = v * 16 + static_cast<unsigned>(
                       std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : c - 'a' + 10);
    }
    return hex(v);
  }
  if (spec.size() == 2 && spec[0] == 'C' && std::isdigit(static_cast<unsigned char>(spec[1])))
    return cycle_color(static_cast<std::size_t>(spec[1] - '0'));
  if (spec.size() == 1) {
    switch (spec[0]) {
      case 'b':
        return {0, 0, 1};
      case 'g':
        return {0, 0.5, 0};
      case 'r':
        return {1, 0, 0};
      case 'c':
        return {0, 0.75, 0.75};
      case 'm':
        return {0.75, 0, 0.75};
      case 'y':
        return {0.75, 0.75, 0};
      case 'k':
        return {0, 0, 0};
      case 'w':
        return {1, 1, 1};
      default:
        break;
    }
  }
  static const struct {
    const char* name;
    unsigned v;
  } kNames[] = {{"blue", kCycle[0]},  {"orange", kCycle[1]}, {"green", kCycle[2]},
                {"red", kCycle[3]},   {"purple", kCycle[4]}, {"brown", kCycle[5]},
                {"pink", kCycle[6]},  {"gray", kCycle[7]},   {"grey", kCycle[7]},
                {"olive", kCycle[8]}, {"cyan", kCycle[9]},   {"black", 0x000000},
                {"white", 0xffffff}};
  const std::string l = lower(spec);
  for (const auto& n : kNames)
    if (l == n.name) return hex(n.v);
  throw bad_input("colour '" + spec + "': expected #rrggbb, one of bgrcmykw, C0..C9 or a name");
}

LineFormat parse_format(const std::string& fmt) {
  LineFormat f;
  bool have_dash = false;
  std::size_t i = 0;
  while (i < fmt.size()) {
    const char c = fmt[i];
    if (c == '-' || c == ':') {
      if (have_dash) throw bad_input("format '" + fmt + "': two line styles");
      have_dash = true;
      if (fmt.compare(i, 2, "--") == 0) {
        f.dash = Dash::Dashed;
        i += 2;
      } else if (fmt.compare(i, 2, "-.") == 0) {
        f.dash = Dash::DashDot;
        i += 2;
      } else {
        f.dash = c == ':' ? Dash::Dotted : Dash::Solid;
        ++i;
      }
      continue;
    }
    if (std::string("bgrcmykw").find(c) != std::string::npos) {
      if (f.color) throw bad_input("format '" + fmt + "': two colours");
      f.color = parse_color(std::string(1, c));
    } else if (std::string(".os^vx+*D").find(c) != std::string::npos) {
      if (f.marker) throw bad_input("format '" + fmt + "': two markers");
      f.marker = c;
    } else {
      throw bad_input("format '" + fmt + "': unknown character '" + std::string(1, c) +
                      "' (expected colours bgrcmykw, lines - -- -. :, markers .os^vx+*D)");
    }
    ++i;
  }
  if (f.marker && !have_dash) f.dash = Dash::None;
  return f;
}

std::vector<Rgb> resolve_colors(const std::vector<Series>& series) {
  std::vector<Rgb> out;
  std::size_t next = 0;
  for (const auto& s : series) {
    const LineFormat f = parse_format(s.fmt);
    out.push_back(s.color ? *s.color : f.color ? *f.color : cycle_color(next++));
  }
  return out;
}

ColorMap parse_cmap(const std::string& name) {
  const std::string l = lower(name);
  if (l == "gray" || l == "grey") return ColorMap::Gray;
  if (l == "viridis") return ColorMap::Viridis;
  if (l == "reds") return ColorMap::Reds;
  if (l == "blues") return ColorMap::Blues;
  throw bad_input("colour map '" + name + "': expected gray, viridis, Reds or Blues");
}

Rgb cmap_color(ColorMap cmap, double t) {
  // Sampled at 9 evenly spaced points and interpolated linearly.
  static constexpr unsigned kViridis[] = {0x440154, 0x472d7b, 0x3b528b, 0x2c728e, 0x21918c,
                                          0x28ae80, 0x5ec962, 0xaddc30, 0xfde725};
  static constexpr unsigned kReds[] = {0xfff5f0, 0xfee0d2, 0xfcbba1, 0xfc9272, 0xfb6a4a,
                                       0xef3b2c, 0xcb181d, 0xa50f15, 0x67000d};
  static constexpr unsigned kBlues[] = {0xf7fbff, 0xdeebf7, 0xc6dbef, 0x9ecae1, 0x6baed6,
                                        0x4292c6, 0x2171b5, 0x08519c, 0x08306b};
  switch (cmap) {
    case ColorMap::Gray: {
      const double v = std::isnan(t) ? 0 : std::clamp(t, 0.0, 1.0);
      return {v, v, v};
    }
    case ColorMap::Viridis:
      return lerp_table(kViridis, 9, t);
    case ColorMap::Reds:
      return lerp_table(kReds, 9, t);
    case ColorMap::Blues:
      return lerp_table(kBlues, 9, t);
  }
  return {};
}

ImageFormat format_for_path(const std::string& path) {
  const auto dot = path.find_last_of('.');
  const auto slash = path.find_last_of('/');
  const std::string ext = dot == std::string::npos || (slash != std::string::npos && dot < slash)
                              ? ""
                              : lower(path.substr(dot + 1));
  if (ext == "png") return ImageFormat::Png;
  if (ext == "svg") return ImageFormat::Svg;
  if (ext == "pdf") return ImageFormat::Pdf;
  throw bad_input(path + ": unknown picture format (use .png, .svg or .pdf)");
}

std::pair<int, int> png_size(const Figure& fig) {
  const double ppi = 100.0 * fig.scale;
  return {std::max(1, static_cast<int>(std::lround(fig.width * ppi))),
          std::max(1, static_cast<int>(std::lround(fig.height * ppi)))};
}

void write_file_replace(const std::string& path, const std::string& bytes) {
  if (path.empty()) throw bad_input("write: empty file name");
  static std::atomic<unsigned long> counter{0};
  const std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(path + ": cannot write: " + std::strerror(errno));
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = n < 0 ? std::strerror(errno) : "short write";
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error(path + ": cannot write: " + why);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw Error(path + ": cannot write: " + why);
  }
}

void save_figure(const Figure& fig, const std::string& path, bool sync) {
  const ImageFormat format = format_for_path(path);
  std::string bytes;
  try {
    bytes = render_figure(fig, format);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what(), e.kind());
  }
  if (sync)
    write_file_atomic(path, bytes);
  else
    write_file_replace(path, bytes);
}

bool try_save_figure(const Figure& fig, const std::string& path, std::FILE* warn) noexcept {
  try {
    save_figure(fig, path);
    return true;
  } catch (const std::exception& e) {
    if (warn) std::fprintf(warn, "d2l: warning: %s (going on without this picture)\n", e.what());
  } catch (...) {
    if (warn) std::fprintf(warn, "d2l: warning: %s: drawing failed\n", path.c_str());
  }
  return false;
}

#ifndef D2L_HAVE_CAIRO
bool have_cairo() { return false; }

std::string render_figure(const Figure&, ImageFormat) {
  throw Error("figure: d2l was built without Cairo (install libcairo2-dev and rebuild)");
}

Raster read_png(const std::string& path) {
  throw Error(path + ": cannot read PNG: d2l was built without Cairo");
}
#endif

}  // namespace d2l::viz
