#include "d2l/viz/terminal_chart.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "d2l/core/progress.h"

namespace d2l::viz {
namespace {

// Bit of the braille dot at (column 0..1, row 0..3) of a cell.
constexpr unsigned kDot[2][4] = {{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}};

std::string braille(unsigned bits) {
  const unsigned cp = 0x2800 + bits;
  std::string s;
  s += static_cast<char>(0xE0 | (cp >> 12));
  s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  s += static_cast<char>(0x80 | (cp & 0x3F));
  return s;
}

std::string ansi(const Rgb& c) {
  auto q = [](double v) { return static_cast<int>(std::lround(std::clamp(v, 0.0, 1.0) * 5)); };
  return "\033[38;5;" + std::to_string(16 + 36 * q(c.r) + 6 * q(c.g) + q(c.b)) + "m";
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf,
                std::fabs(v) >= 1e4 || (v != 0 && std::fabs(v) < 1e-3) ? "%.3g" : "%.3f", v);
  return buf;
}

// The first `cols` visible characters of `line` (escape sequences kept, UTF-8 counted by
// characters: braille and box-drawing characters are one column wide), so no line wraps and
// the cursor-up count stays right.
std::string fit_to_columns(const std::string& line, int cols) {
  std::string out;
  int seen = 0;
  bool cut = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(line[i]);
    if (c == 0x1b) {  // copy the escape sequence up to its final letter
      std::size_t j = i + 1;
      while (j < line.size() && !std::isalpha(static_cast<unsigned char>(line[j]))) ++j;
      out.append(line, i, j - i + 1);
      i = j;
      continue;
    }
    if ((c & 0xC0) != 0x80) {  // not a continuation byte: a new character
      if (seen == cols) {
        cut = true;
        break;
      }
      ++seen;
    }
    out += line[i];
  }
  if (cut) out += "\033[0m";
  return out;
}

}  // namespace

std::string render_terminal_chart(const std::vector<Series>& series,
                                  const TerminalChartOptions& opts) {
  const int W = std::max(8, opts.width), H = std::max(2, opts.height);
  const int pw = 2 * W, ph = 4 * H;
  const bool logy = opts.yscale == Scale::Log;
  auto ty = [&](double v) { return logy ? (v > 0 ? std::log10(v) : NAN) : v; };
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const auto& s : series)
    for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      const double y = ty(s.y[i]);
      if (!std::isfinite(s.x[i]) || !std::isfinite(y)) continue;
      if (opts.xlim && (s.x[i] < opts.xlim->lo || s.x[i] > opts.xlim->hi)) continue;
      x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  if (opts.xlim) x0 = opts.xlim->lo, x1 = opts.xlim->hi;
  if (opts.ylim) y0 = ty(opts.ylim->lo), y1 = ty(opts.ylim->hi);
  if (!std::isfinite(x0) || !std::isfinite(x1)) x0 = 0, x1 = 1;
  if (!std::isfinite(y0) || !std::isfinite(y1)) y0 = 0, y1 = 1;
  if (x1 <= x0) x0 -= 0.5, x1 += 0.5;
  if (y1 <= y0) y0 -= 0.5, y1 += 0.5;

  std::vector<Rgb> colors;
  try {
    colors = resolve_colors(series);
  } catch (...) {
    colors.assign(series.size(), Rgb{});
  }
  std::vector<unsigned> bits(static_cast<std::size_t>(W) * H, 0);
  std::vector<int> owner(static_cast<std::size_t>(W) * H, -1);
  auto dot = [&](int px, int py, int who) {
    if (px < 0 || px >= pw || py < 0 || py >= ph) return;
    const std::size_t cell = static_cast<std::size_t>(py / 4) * W + px / 2;
    bits[cell] |= kDot[px % 2][py % 4];
    owner[cell] = who;
  };
  for (std::size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    bool have = false;
    double lx = 0, ly = 0;
    for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      const double y = ty(s.y[i]);
      if (!std::isfinite(s.x[i]) || !std::isfinite(y)) {
        have = false;
        continue;
      }
      const double px = (s.x[i] - x0) / (x1 - x0) * (pw - 1);
      const double py = (1 - (y - y0) / (y1 - y0)) * (ph - 1);
      if (!have) {
        dot(static_cast<int>(std::lround(px)), static_cast<int>(std::lround(py)),
            static_cast<int>(k));
      } else {
        const int steps = std::max(
            1, static_cast<int>(std::ceil(std::max(std::fabs(px - lx), std::fabs(py - ly)))));
        for (int t = 1; t <= steps; ++t) {
          const double f = static_cast<double>(t) / steps;
          dot(static_cast<int>(std::lround(lx + (px - lx) * f)),
              static_cast<int>(std::lround(ly + (py - ly) * f)), static_cast<int>(k));
        }
      }
      have = true;
      lx = px, ly = py;
    }
  }
  auto ylab = [&](double v) { return num(logy ? std::pow(10.0, v) : v); };
  const std::string top = ylab(y1), bottom = ylab(y0);
  const std::size_t lw = std::max(top.size(), bottom.size());
  const std::string reset = opts.color ? "\033[0m" : "";
  std::string out;
  for (int r = 0; r < H; ++r) {
    std::string label = r == 0 ? top : r == H - 1 ? bottom : "";
    out += std::string(lw - label.size(), ' ') + label + (r == 0 || r == H - 1 ? " ┤" : " │");
    int cur = -1;
    for (int c = 0; c < W; ++c) {
      const std::size_t cell = static_cast<std::size_t>(r) * W + c;
      if (opts.color && owner[cell] != cur) {
        out += owner[cell] < 0 ? reset : ansi(colors[owner[cell]]);
        cur = owner[cell];
      }
      out += braille(bits[cell]);
    }
    if (cur >= 0) out += reset;
    out += "\n";
  }
  out += std::string(lw, ' ') + " └";
  for (int c = 0; c < W; ++c) out += "─";
  out += "\n";
  const std::string xa = num(x0), xb = num(x1);
  std::string xrow = std::string(lw + 2, ' ') + xa;
  const int gap = W - static_cast<int>(xa.size() + xb.size());
  xrow += std::string(static_cast<std::size_t>(std::max(1, gap)), ' ') + xb;
  if (!opts.xlabel.empty()) xrow += "  " + opts.xlabel;
  out += xrow + "\n";
  const std::string indent(lw + 2, ' ');
  std::string legend = indent;
  std::size_t visible = indent.size();
  for (std::size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    std::string latest = "n/a";
    for (std::size_t i = std::min(s.x.size(), s.y.size()); i-- > 0;)
      if (std::isfinite(s.y[i])) {
        latest = num(s.y[i]);
        break;
      }
    const std::string entry =
        (s.label.empty() ? "line " + std::to_string(k + 1) : s.label) + " " + latest;
    const std::size_t width = 3 + entry.size();  // "━━ " + entry
    if (k > 0) {
      if (opts.columns > 0 && visible + 3 + width > static_cast<std::size_t>(opts.columns)) {
        legend += "\n" + indent;
        visible = indent.size();
      } else {
        legend += "   ";
        visible += 3;
      }
    }
    legend += (opts.color ? ansi(colors[k]) : "") + "━━" + reset + " " + entry;
    visible += width;
  }
  out += legend + "\n";
  return out;
}

TerminalChart::TerminalChart(std::FILE* stream) : stream_(stream), active_(is_terminal(stream)) {}

int TerminalChart::columns() const {
  struct winsize ws {};
  if (stream_ && ::ioctl(::fileno(stream_), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    return ws.ws_col;
  if (const char* c = std::getenv("COLUMNS")) {
    const int n = std::atoi(c);
    if (n > 0) return n;
  }
  return 80;
}

void TerminalChart::draw(const std::string& text) {
  if (!active_) return;
  std::string out = "\r\033[2K";  // the line below the block (a progress bar, maybe)
  if (lines_ > 0) out += "\033[" + std::to_string(lines_) + "A";
  int n = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out += "\r" + fit_to_columns(text.substr(start, end - start), columns() - 1) + "\033[K\n";
    ++n;
    start = end + 1;
  }
  out += "\033[J";  // whatever a longer previous block left below
  std::fputs(out.c_str(), stream_);
  std::fflush(stream_);
  lines_ = n;
}

}  // namespace d2l::viz
