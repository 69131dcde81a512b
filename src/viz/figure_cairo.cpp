// The Cairo renderer of the figure layer. Everything is laid out in points (1/72 inch): the PNG
// surface is scaled by dpi / 72, SVG and PDF surfaces are in points already. Each call owns its
// surface and context, so renders on several threads do not share state (Cairo's font caches
// are locked internally).
#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>

#ifdef D2L_HAVE_ZLIB
#include <zlib.h>
#endif

#include "d2l/core/error.h"
#include "d2l/viz/figure.h"

namespace d2l::viz {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kPad = 4;          // points between blocks of text
constexpr double kTickLen = 3.5;    // matplotlib's major tick length
constexpr double kLineWidth = 1.5;  // matplotlib's lines.linewidth
constexpr double kAxisWidth = 0.8;  // spines, ticks, grid
constexpr const char* kFont = "DejaVu Sans";
const double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Rect {
  double x = 0, y = 0, w = 0, h = 0;
};

// A text with at most one "^{...}" superscript (log tick labels).
struct Parts {
  std::string base, sup;
};
Parts split_sup(const std::string& s) {
  const auto p = s.find("^{");
  if (p == std::string::npos || s.back() != '}') return {s, ""};
  return {s.substr(0, p), s.substr(p + 2, s.size() - p - 3)};
}

class Painter {
 public:
  Painter(cairo_t* cr, double font_size, std::vector<std::string>* log)
      : cr_(cr), fs_(font_size), log_(log) {
    cairo_select_font_face(cr_, kFont, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    static std::atomic<bool> warned{false};
    cairo_set_font_size(cr_, 10);
    cairo_text_extents_t e;
    cairo_text_extents(cr_, "0", &e);
    if (e.x_advance <= 0 && !warned.exchange(true))
      std::fprintf(stderr,
                   "d2l: warning: no font found for figures (install fonts-dejavu-core); "
                   "text will be missing\n");
  }
  cairo_t* cr() const { return cr_; }
  double fs() const { return fs_; }

  void color(const Rgb& c, double alpha = 1) { cairo_set_source_rgba(cr_, c.r, c.g, c.b, alpha); }

  // Widest line of `s` (lines split at '\n').
  double width(const std::string& s, double size) {
    double w = 0;
    for (const auto& line : lines(s)) {
      const Parts p = split_sup(line);
      w = std::max(w, advance(p.base, size) + (p.sup.empty() ? 0 : advance(p.sup, 0.7 * size)));
    }
    return w;
  }
  // Ascent and descent of the font at `size`.
  double ascent(double size) { return 0.76 * size; }  // cap height-ish: DejaVu digits ~0.73 em
  double descent(double size) { return 0.24 * size; }
  double line_gap(double size) { return 0.2 * size; }
  double height(const std::string& s, double size) {
    const auto ls = lines(s);
    const double one = ascent(size) + descent(size);
    return ls.size() * one + (ls.size() - 1) * line_gap(size) +
           (split_sup(ls.front()).sup.empty() ? 0 : 0.3 * size);
  }

  // Draws `s` anchored at (x, y): ha 0 left, 0.5 centre, 1 right; va 0 top, 0.5 middle,
  // 1 bottom (of the descent). `angle` in degrees, counter-clockwise, around the anchor.
  // Lines (split at '\n') are stacked, each aligned by `ha`.
  void text(const std::string& s, double x, double y, double size, double ha, double va,
            double angle = 0) {
    if (s.empty()) return;
    if (log_) log_->push_back(s);
    const auto ls = lines(s);
    const double h = height(s, size);
    const double top_extra = split_sup(ls.front()).sup.empty() ? 0 : 0.3 * size;
    cairo_save(cr_);
    cairo_translate(cr_, x, y);
    if (angle != 0) cairo_rotate(cr_, -angle * kPi / 180);
    double baseline = -va * h + top_extra + ascent(size);
    for (const auto& line : ls) {
      const Parts p = split_sup(line);
      const double x0 = -ha * width(line, size);
      cairo_set_font_size(cr_, size);
      cairo_move_to(cr_, x0, baseline);
      cairo_show_text(cr_, p.base.c_str());
      if (!p.sup.empty()) {
        cairo_set_font_size(cr_, 0.7 * size);
        cairo_move_to(cr_, x0 + advance(p.base, size), baseline - 0.45 * size);
        cairo_show_text(cr_, p.sup.c_str());
      }
      baseline += ascent(size) + descent(size) + line_gap(size);
    }
    cairo_restore(cr_);
  }

 private:
  static std::vector<std::string> lines(const std::string& s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
      const auto nl = s.find('\n', start);
      out.push_back(s.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
      if (nl == std::string::npos) return out;
      start = nl + 1;
    }
  }
  double advance(const std::string& s, double size) {
    if (s.empty()) return 0;
    cairo_set_font_size(cr_, size);
    cairo_text_extents_t e;
    cairo_text_extents(cr_, s.c_str(), &e);
    return e.x_advance;
  }
  cairo_t* cr_;
  double fs_;
  std::vector<std::string>* log_;
};

// Maps data to points along one axis.
struct AxisMap {
  Range lim;
  Scale scale = Scale::Linear;
  double p0 = 0, p1 = 1;  // positions of lim.lo and lim.hi
  double operator()(double v) const {
    double t;
    if (scale == Scale::Log) {
      if (!(v > 0)) return kNaN;
      t = (std::log10(v) - std::log10(lim.lo)) / (std::log10(lim.hi) - std::log10(lim.lo));
    } else {
      t = (v - lim.lo) / (lim.hi - lim.lo);
    }
    return p0 + t * (p1 - p0);
  }
};

struct Ticks {
  std::vector<double> at;
  std::vector<std::string> labels;
};

Ticks make_ticks(const Range& lim, Scale scale, const std::vector<std::string>& categories,
                 int max_ticks, bool integers) {
  Ticks t;
  if (!categories.empty()) {
    for (std::size_t i = 0; i < categories.size(); ++i) {
      t.at.push_back(static_cast<double>(i));
      t.labels.push_back(categories[i]);
    }
    return t;
  }
  if (scale == Scale::Log) {
    t.at = log_ticks(lim.lo, lim.hi);
    for (double v : t.at) t.labels.push_back(format_log_tick(v));
  } else {
    t.at = linear_ticks(lim.lo, lim.hi, max_ticks);
    if (integers) {  // image rows and columns: whole numbers only
      t.at.erase(std::remove_if(t.at.begin(), t.at.end(),
                                [](double v) { return std::fabs(v - std::round(v)) > 1e-9; }),
                 t.at.end());
    }
    t.labels = format_ticks(t.at);
  }
  return t;
}

// The data range of the series along x (or y), only values the scale can show.
void data_range(const Axes& ax, bool want_x, Scale scale, double* lo, double* hi) {
  *lo = std::numeric_limits<double>::infinity();
  *hi = -*lo;
  for (const auto& s : ax.series) {
    const std::size_t n = std::min(s.x.size(), s.y.size());
    for (std::size_t i = 0; i < n; ++i) {
      const double x = s.x[i], y = s.y[i];
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      const double v = want_x ? x : y;
      if (scale == Scale::Log && !(v > 0)) continue;
      // y autoscales to the points inside a given x range (unlike matplotlib, which uses all).
      if (!want_x && ax.xlim &&
          (x < std::min(ax.xlim->lo, ax.xlim->hi) || x > std::max(ax.xlim->lo, ax.xlim->hi)))
        continue;
      *lo = std::min(*lo, v);
      *hi = std::max(*hi, v);
    }
  }
  for (const auto& t : ax.texts) {
    const double v = want_x ? t.x : t.y;
    *lo = std::min(*lo, v);
    *hi = std::max(*hi, v);
  }
}

Range axis_limits(const Axes& ax, bool want_x) {
  const auto& given = want_x ? ax.xlim : ax.ylim;
  const Scale scale = want_x ? ax.xscale : ax.yscale;
  if (given) {
    Range r = *given;
    if (r.hi < r.lo) std::swap(r.lo, r.hi);
    if (scale == Scale::Log && !(r.lo > 0))
      throw bad_input("figure: log axis limits must be positive");
    if (!(r.hi > r.lo)) r = auto_limits(r.lo, r.hi, scale);
    return r;
  }
  if (ax.image) {
    const int n = want_x ? ax.image->width : ax.image->height;
    return {-0.5, n - 0.5};
  }
  const auto& cats = want_x ? ax.xtick_labels : ax.ytick_labels;
  if (!cats.empty()) return {-0.5, cats.size() - 0.5};
  double lo, hi;
  data_range(ax, want_x, scale, &lo, &hi);
  if (lo > hi) return scale == Scale::Log ? Range{1, 10} : Range{0, 1};
  return auto_limits(lo, hi, scale);
}

void set_dash(cairo_t* cr, Dash d, double lw) {
  static const double kDashed[] = {3.7, 1.6}, kDashDot[] = {6.4, 1.6, 1.0, 1.6},
                      kDotted[] = {1.0, 1.65};
  const double* pat = nullptr;
  int n = 0;
  if (d == Dash::Dashed) pat = kDashed, n = 2;
  if (d == Dash::DashDot) pat = kDashDot, n = 4;
  if (d == Dash::Dotted) pat = kDotted, n = 2;
  double buf[4];
  for (int i = 0; i < n; ++i) buf[i] = pat[i] * lw;
  cairo_set_dash(cr, buf, n, 0);
}

void draw_marker(cairo_t* cr, char m, double x, double y, double size) {
  const double r = size / 2;
  switch (m) {
    case '.':
      cairo_arc(cr, x, y, r * 0.45, 0, 2 * kPi);
      cairo_fill(cr);
      break;
    case 'o':
      cairo_arc(cr, x, y, r, 0, 2 * kPi);
      cairo_fill(cr);
      break;
    case 's':
      cairo_rectangle(cr, x - r * 0.85, y - r * 0.85, 1.7 * r, 1.7 * r);
      cairo_fill(cr);
      break;
    case 'D':
      cairo_move_to(cr, x, y - r);
      cairo_line_to(cr, x + r, y);
      cairo_line_to(cr, x, y + r);
      cairo_line_to(cr, x - r, y);
      cairo_close_path(cr);
      cairo_fill(cr);
      break;
    case '^':
      cairo_move_to(cr, x, y - r);
      cairo_line_to(cr, x + r, y + r * 0.8);
      cairo_line_to(cr, x - r, y + r * 0.8);
      cairo_close_path(cr);
      cairo_fill(cr);
      break;
    case 'v':
      cairo_move_to(cr, x, y + r);
      cairo_line_to(cr, x + r, y - r * 0.8);
      cairo_line_to(cr, x - r, y - r * 0.8);
      cairo_close_path(cr);
      cairo_fill(cr);
      break;
    case '*':
    case '+':
    case 'x': {
      cairo_save(cr);
      cairo_set_dash(cr, nullptr, 0, 0);
      cairo_set_line_width(cr, 1.0);
      const double d = m == 'x' ? r * 0.8 : r;
      if (m != 'x') {
        cairo_move_to(cr, x - d, y);
        cairo_line_to(cr, x + d, y);
        cairo_move_to(cr, x, y - d);
        cairo_line_to(cr, x, y + d);
      }
      if (m != '+') {
        const double e = m == 'x' ? d : d * 0.7;
        cairo_move_to(cr, x - e, y - e);
        cairo_line_to(cr, x + e, y + e);
        cairo_move_to(cr, x - e, y + e);
        cairo_line_to(cr, x + e, y - e);
      }
      cairo_stroke(cr);
      cairo_restore(cr);
      break;
    }
    default:
      break;
  }
}

struct Resolved {
  LineFormat fmt;
  Rgb color;
};

std::vector<Resolved> resolve_formats(const Axes& ax) {
  std::vector<Resolved> out;
  const std::vector<Rgb> colors = resolve_colors(ax.series);
  for (std::size_t i = 0; i < ax.series.size(); ++i)
    out.push_back({parse_format(ax.series[i].fmt), colors[i]});
  return out;
}

void stroke_style(cairo_t* cr, const Resolved& r) {
  cairo_set_source_rgb(cr, r.color.r, r.color.g, r.color.b);
  cairo_set_line_width(cr, kLineWidth);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr, r.fmt.dash == Dash::Solid ? CAIRO_LINE_CAP_ROUND : CAIRO_LINE_CAP_BUTT);
  set_dash(cr, r.fmt.dash, kLineWidth);
}

void draw_series(cairo_t* cr, const Series& s, const Resolved& r, const AxisMap& mx,
                 const AxisMap& my, std::vector<std::pair<double, double>>* pts) {
  const std::size_t n = std::min(s.x.size(), s.y.size());
  std::vector<std::pair<double, double>> xy;
  xy.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double x = std::isfinite(s.x[i]) ? mx(s.x[i]) : kNaN;
    const double y = std::isfinite(s.y[i]) ? my(s.y[i]) : kNaN;
    xy.emplace_back(x, y);
    if (std::isfinite(x) && std::isfinite(y)) pts->emplace_back(x, y);
  }
  cairo_save(cr);
  stroke_style(cr, r);
  if (r.fmt.dash != Dash::None) {
    bool pen = false;
    for (const auto& [x, y] : xy) {
      if (!std::isfinite(x) || !std::isfinite(y)) {
        pen = false;
        continue;
      }
      if (pen) {
        cairo_line_to(cr, x, y);
      } else {
        cairo_move_to(cr, x, y);
        pen = true;
      }
    }
    cairo_stroke(cr);
  }
  if (r.fmt.marker) {
    cairo_set_dash(cr, nullptr, 0, 0);
    for (const auto& [x, y] : xy)
      if (std::isfinite(x) && std::isfinite(y)) draw_marker(cr, r.fmt.marker, x, y, 6);
  }
  cairo_restore(cr);
}

void draw_raster(cairo_t* cr, const Raster& img, const Rect& box) {
  if (img.width <= 0 || img.height <= 0 ||
      img.rgb.size() != static_cast<std::size_t>(img.width) * img.height * 3)
    throw Error("figure: image buffer holds " + std::to_string(img.rgb.size()) +
                " bytes, expected height*width*3 = " +
                std::to_string(static_cast<long>(img.width) * img.height * 3));
  cairo_surface_t* s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, img.width, img.height);
  cairo_surface_flush(s);
  unsigned char* data = cairo_image_surface_get_data(s);
  const int stride = cairo_image_surface_get_stride(s);
  for (int r = 0; r < img.height; ++r) {
    auto* row = reinterpret_cast<uint32_t*>(data + r * stride);
    const uint8_t* src = img.rgb.data() + static_cast<std::size_t>(r) * img.width * 3;
    for (int c = 0; c < img.width; ++c)
      row[c] = (uint32_t{src[3 * c]} << 16) | (uint32_t{src[3 * c + 1]} << 8) | src[3 * c + 2];
  }
  cairo_surface_mark_dirty(s);
  cairo_save(cr);
  cairo_rectangle(cr, box.x, box.y, box.w, box.h);
  cairo_clip(cr);
  cairo_translate(cr, box.x, box.y);
  cairo_scale(cr, box.w / img.width, box.h / img.height);
  cairo_set_source_surface(cr, s, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_paint(cr);
  cairo_restore(cr);
  cairo_surface_destroy(s);
}

// The legend at the place (of matplotlib's "best" candidates) that covers the fewest points.
void draw_legend(Painter& p, const Axes& ax, const std::vector<Resolved>& res, const Rect& box,
                 const std::vector<std::pair<double, double>>& pts) {
  std::vector<std::size_t> items;
  for (std::size_t i = 0; i < ax.series.size(); ++i)
    if (!ax.series[i].label.empty()) items.push_back(i);
  if (items.empty() || !ax.legend) return;
  const double fs = p.fs();
  const double handle = 2.0 * fs, gap = 0.8 * fs, border = 0.4 * fs, spacing = 0.5 * fs,
               outer = 0.5 * fs;
  const double row_h = p.ascent(fs) + p.descent(fs);
  double text_w = 0;
  for (auto i : items) text_w = std::max(text_w, p.width(ax.series[i].label, fs));
  const double w = 2 * border + handle + gap + text_w;
  const double h = 2 * border + items.size() * row_h + (items.size() - 1) * spacing;
  // (fx, fy): where the legend sits, 0 left/top, 0.5 centre, 1 right/bottom.
  static const double kPlaces[][2] = {{1, 0},   {0, 0},   {0, 1},   {1, 1},    {1, 0.5},
                                      {0, 0.5}, {0.5, 1}, {0.5, 0}, {0.5, 0.5}};
  Rect best;
  long best_hits = -1;
  for (const auto& pl : kPlaces) {
    Rect r{box.x + outer + pl[0] * (box.w - w - 2 * outer),
           box.y + outer + pl[1] * (box.h - h - 2 * outer), w, h};
    long hits = 0;
    for (const auto& [x, y] : pts)
      if (x >= r.x && x <= r.x + r.w && y >= r.y && y <= r.y + r.h) ++hits;
    for (std::size_t k = 1; k < pts.size(); ++k) {  // segment midpoints, for sparse lines
      const double x = (pts[k - 1].first + pts[k].first) / 2,
                   y = (pts[k - 1].second + pts[k].second) / 2;
      if (x >= r.x && x <= r.x + r.w && y >= r.y && y <= r.y + r.h) ++hits;
    }
    if (best_hits < 0 || hits < best_hits) {
      best_hits = hits;
      best = r;
    }
    if (hits == 0) break;
  }
  cairo_t* cr = p.cr();
  cairo_save(cr);
  cairo_set_dash(cr, nullptr, 0, 0);
  cairo_rectangle(cr, best.x, best.y, best.w, best.h);
  cairo_set_source_rgba(cr, 1, 1, 1, 0.8);
  cairo_fill_preserve(cr);
  cairo_set_source_rgb(cr, 0.8, 0.8, 0.8);
  cairo_set_line_width(cr, kAxisWidth);
  cairo_stroke(cr);
  double y = best.y + border;
  for (auto i : items) {
    const double mid = y + row_h / 2;
    cairo_save(cr);
    stroke_style(cr, res[i]);
    if (res[i].fmt.dash != Dash::None) {
      cairo_move_to(cr, best.x + border, mid);
      cairo_line_to(cr, best.x + border + handle, mid);
      cairo_stroke(cr);
    }
    if (res[i].fmt.marker) draw_marker(cr, res[i].fmt.marker, best.x + border + handle / 2, mid, 6);
    cairo_restore(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    p.text(ax.series[i].label, best.x + border + handle + gap, mid, fs, 0, 0.5);
    y += row_h + spacing;
  }
  cairo_restore(cr);
}

struct Margins {
  double left = 0, right = 0, top = 0, bottom = 0;
};

// Draws one panel in `cell` and returns its plot box. With `measure`, only computes the margins
// its labels need into *measure; with `shared`, uses those margins (panels of one grid line up).
Rect draw_axes(Painter& p, const Axes& ax, const Rect& cell, const Margins* shared,
               Margins* measure) {
  cairo_t* cr = p.cr();
  const double fs = p.fs();
  const double line_h = p.ascent(fs) + p.descent(fs);
  const bool image = ax.image.has_value();
  const Range xl = axis_limits(ax, true), yl = axis_limits(ax, false);

  if (!ax.axis_visible) {
    Rect box = cell;
    box.x += 1, box.w -= 2;
    double top = 1;
    if (!ax.title.empty()) top += p.height(ax.title, fs) + 2;
    box.y += top, box.h -= top + 1;
    if (image) {  // square pixels, centred
      const double aspect = static_cast<double>(ax.image->width) / ax.image->height;
      if (box.w / box.h > aspect) {
        const double w = box.h * aspect;
        box.x += (box.w - w) / 2, box.w = w;
      } else {
        const double h = box.w / aspect;
        box.y += (box.h - h) / 2, box.h = h;
      }
      if (!measure) draw_raster(cr, *ax.image, box);
    }
    if (measure) return box;
    cairo_set_source_rgb(cr, 0, 0, 0);
    p.text(ax.title, box.x + box.w / 2, box.y - 2, fs, 0.5, 1);
    return box;
  }

  const int max_ticks = std::max(3, std::min(9, static_cast<int>(cell.w / (3.5 * fs))));
  const int max_yticks = std::max(3, std::min(9, static_cast<int>(cell.h / (2.2 * fs))));
  Ticks yt = make_ticks(yl, ax.yscale, ax.ytick_labels, max_yticks, image);
  if (!ax.ytick_labels_shown) yt.labels.assign(yt.at.size(), "");
  double ytick_w = 0;
  for (const auto& l : yt.labels) ytick_w = std::max(ytick_w, p.width(l, fs));
  const double left_est = kPad + (ax.ylabel.empty() ? 0 : line_h + kPad) + ytick_w + kTickLen + 3;
  const double box_w_est = cell.w - left_est - kPad - 1.5 * fs;
  Ticks xt = make_ticks(xl, ax.xscale, ax.xtick_labels, max_ticks, image);
  // Fewer x ticks while neighbouring labels would come closer than 0.8 em.
  const AxisMap est{xl, ax.xscale, 0, box_w_est};
  for (int n = max_ticks - 1; n >= 2 && ax.xtick_labels.empty() && ax.xtick_rotation == 0; --n) {
    bool fits = true;
    for (std::size_t i = 1; i < xt.at.size() && fits; ++i)
      fits = est(xt.at[i]) - est(xt.at[i - 1]) >=
             (p.width(xt.labels[i], fs) + p.width(xt.labels[i - 1], fs)) / 2 + 0.8 * fs;
    if (fits) break;
    xt = make_ticks(xl, ax.xscale, ax.xtick_labels, n, image);
  }
  if (!ax.xtick_labels_shown) xt.labels.assign(xt.at.size(), "");

  double xtick_h = 0;
  const double rot = ax.xtick_rotation * kPi / 180;
  for (const auto& l : xt.labels) {
    if (l.empty()) continue;
    const double w = p.width(l, fs), h = p.height(l, fs);
    xtick_h = std::max(xtick_h, std::fabs(w * std::sin(rot)) + std::fabs(h * std::cos(rot)));
  }
  double left = kPad + (ax.ylabel.empty() ? 0 : line_h + kPad) + ytick_w + kTickLen + 3;
  double bottom = kPad + (ax.xlabel.empty() ? 0 : line_h + kPad) + xtick_h + kTickLen + 3;
  double top = kPad + 0.5 * line_h;  // room for the top tick label's upper half
  if (!ax.title.empty()) top = kPad + p.height(ax.title, fs) + kPad;
  double right = kPad;
  if (!xt.labels.empty() && ax.xtick_rotation == 0 && !xt.labels.back().empty())
    right = std::max(right, p.width(xt.labels.back(), fs) / 2 + 2);
  if (measure) {
    *measure = {left, right, top, bottom};
    return cell;
  }
  if (shared)
    left = shared->left, right = shared->right, top = shared->top, bottom = shared->bottom;
  Rect box{cell.x + left, cell.y + top, cell.w - left - right, cell.h - top - bottom};
  if (box.w < 10 || box.h < 10) throw bad_input("figure: too small for its labels");
  if (image) {  // square pixels: shrink one side, centre the box in the cell
    const double aspect = (xl.hi - xl.lo) / (yl.hi - yl.lo);
    if (box.w / box.h > aspect) {
      const double w = box.h * aspect;
      box.x += (box.w - w) / 2, box.w = w;
    } else {
      const double h = box.w / aspect;
      box.y += (box.h - h) / 2, box.h = h;
    }
  }
  const bool flip_y = image || !ax.ytick_labels.empty();  // rows top to bottom
  AxisMap mx{xl, ax.xscale, box.x, box.x + box.w};
  AxisMap my{yl, ax.yscale, flip_y ? box.y : box.y + box.h, flip_y ? box.y + box.h : box.y};

  if (image) draw_raster(cr, *ax.image, box);

  // grid
  if (ax.grid && !image) {
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0.69, 0.69, 0.69);
    cairo_set_line_width(cr, kAxisWidth);
    for (double v : xt.at) {
      const double x = mx(v);
      cairo_move_to(cr, x, box.y), cairo_line_to(cr, x, box.y + box.h);
    }
    for (double v : yt.at) {
      const double y = my(v);
      cairo_move_to(cr, box.x, y), cairo_line_to(cr, box.x + box.w, y);
    }
    cairo_stroke(cr);
    cairo_restore(cr);
  }

  // lines, clipped to the box
  const std::vector<Resolved> res = resolve_formats(ax);
  std::vector<std::pair<double, double>> pts;
  cairo_save(cr);
  cairo_rectangle(cr, box.x, box.y, box.w, box.h);
  cairo_clip(cr);
  for (std::size_t i = 0; i < ax.series.size(); ++i)
    draw_series(cr, ax.series[i], res[i], mx, my, &pts);
  for (const auto& t : ax.texts) {
    p.color(t.color);
    p.text(t.text, mx(t.x), my(t.y), fs, 0.5, 0.5);
  }
  cairo_restore(cr);

  // frame, ticks, tick labels
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_line_width(cr, kAxisWidth);
  cairo_rectangle(cr, box.x, box.y, box.w, box.h);
  cairo_stroke(cr);
  for (std::size_t i = 0; i < xt.at.size(); ++i) {
    const double x = mx(xt.at[i]);
    cairo_move_to(cr, x, box.y + box.h), cairo_line_to(cr, x, box.y + box.h + kTickLen);
    cairo_stroke(cr);
    if (ax.xtick_rotation == 0)
      p.text(xt.labels[i], x, box.y + box.h + kTickLen + 3, fs, 0.5, 0);
    else  // right end of the rotated label under its tick
      p.text(xt.labels[i], x, box.y + box.h + kTickLen + 3, fs, 1, 0.5, ax.xtick_rotation);
  }
  for (std::size_t i = 0; i < yt.at.size(); ++i) {
    const double y = my(yt.at[i]);
    cairo_move_to(cr, box.x, y), cairo_line_to(cr, box.x - kTickLen, y);
    cairo_stroke(cr);
    p.text(yt.labels[i], box.x - kTickLen - 3, y, fs, 1, 0.5);
  }
  // labels and title
  p.text(ax.xlabel, box.x + box.w / 2, box.y + box.h + kTickLen + 3 + xtick_h + kPad, fs, 0.5, 0);
  p.text(ax.ylabel, box.x - kTickLen - 3 - ytick_w - kPad - line_h, box.y + box.h / 2, fs, 0.5, 0,
         90);
  p.text(ax.title, box.x + box.w / 2, box.y - kPad, fs, 0.5, 1);
  draw_legend(p, ax, res, box, pts);
  return box;
}

// The bar spans `area` vertically.
void draw_colorbar(Painter& p, const Colorbar& cb, const Rect& area) {
  cairo_t* cr = p.cr();
  const double fs = p.fs();
  Rect bar{area.x + kPad, area.y, 0.6 * fs, area.h};
  cairo_pattern_t* g = cairo_pattern_create_linear(0, bar.y + bar.h, 0, bar.y);
  for (int i = 0; i <= 32; ++i) {
    const Rgb c = cmap_color(cb.cmap, i / 32.0);
    cairo_pattern_add_color_stop_rgb(g, i / 32.0, c.r, c.g, c.b);
  }
  cairo_rectangle(cr, bar.x, bar.y, bar.w, bar.h);
  cairo_set_source(cr, g);
  cairo_fill(cr);
  cairo_pattern_destroy(g);
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_line_width(cr, kAxisWidth);
  cairo_rectangle(cr, bar.x, bar.y, bar.w, bar.h);
  cairo_stroke(cr);
  if (!(cb.vmax > cb.vmin)) return;
  const auto at = linear_ticks(cb.vmin, cb.vmax, 5);
  const auto labels = format_ticks(at);
  for (std::size_t i = 0; i < at.size(); ++i) {
    const double y = bar.y + bar.h - (at[i] - cb.vmin) / (cb.vmax - cb.vmin) * bar.h;
    cairo_move_to(cr, bar.x + bar.w, y), cairo_line_to(cr, bar.x + bar.w + kTickLen, y);
    cairo_stroke(cr);
    p.text(labels[i], bar.x + bar.w + kTickLen + 2, y, fs, 0, 0.5);
  }
}

double colorbar_width(Painter& p, const Colorbar& cb) {
  double w = 0;
  for (const auto& l : format_ticks(linear_ticks(cb.vmin, cb.vmax, 5)))
    w = std::max(w, p.width(l, p.fs()));
  return 2 * kPad + 0.6 * p.fs() + kTickLen + 2 + w;
}

void draw_figure(cairo_t* cr, const Figure& fig, std::vector<std::string>* log) {
  const double W = fig.width * 72, H = fig.height * 72;
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  Painter p(cr, fig.font_size, log);
  Rect grid{0, 0, W, H};
  if (!fig.title.empty()) {
    const double h = p.height(fig.title, fig.font_size * 1.2) + 2 * kPad;
    cairo_set_source_rgb(cr, 0, 0, 0);
    p.text(fig.title, W / 2, kPad, fig.font_size * 1.2, 0.5, 0);
    grid.y += h, grid.h -= h;
  }
  double cbar_w = 0;
  if (fig.colorbar) {
    cbar_w = colorbar_width(p, *fig.colorbar);
    grid.w -= cbar_w;
  }
  const int rows = std::max(1, fig.nrows), cols = std::max(1, fig.ncols);
  const double cw = grid.w / cols, ch = grid.h / rows;
  const std::size_t n = std::min(fig.axes.size(), static_cast<std::size_t>(rows * cols));
  auto cell = [&](std::size_t i) {
    const int r = static_cast<int>(i) / cols, c = static_cast<int>(i) % cols;
    return Rect{grid.x + c * cw, grid.y + r * ch, cw, ch};
  };
  // Panels of a grid share the widest margins, so their plot boxes line up.
  Margins shared;
  bool share = false;
  for (std::size_t i = 0; n > 1 && i < n; ++i) {
    if (!fig.axes[i].axis_visible) continue;
    Margins m;
    draw_axes(p, fig.axes[i], cell(i), nullptr, &m);
    shared.left = std::max(shared.left, m.left), shared.right = std::max(shared.right, m.right);
    shared.top = std::max(shared.top, m.top), shared.bottom = std::max(shared.bottom, m.bottom);
    share = true;
  }
  double box_top = grid.y + grid.h, box_bottom = grid.y;
  for (std::size_t i = 0; i < n; ++i) {
    cairo_save(cr);
    const Rect box = draw_axes(p, fig.axes[i], cell(i), share ? &shared : nullptr, nullptr);
    cairo_restore(cr);
    box_top = std::min(box_top, box.y), box_bottom = std::max(box_bottom, box.y + box.h);
  }
  if (fig.colorbar) {
    if (box_bottom <= box_top) box_top = grid.y + kPad, box_bottom = grid.y + grid.h - kPad;
    draw_colorbar(p, *fig.colorbar, Rect{W - cbar_w, box_top, cbar_w, box_bottom - box_top});
  }
}

cairo_status_t append(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

using SurfacePtr = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using ContextPtr = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

void check(cairo_status_t st, const char* what) {
  if (st != CAIRO_STATUS_SUCCESS)
    throw Error(std::string("figure: ") + what + ": " + cairo_status_to_string(st));
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t') out += c;
    }
  }
  return out;
}

// Cairo draws text as glyph outlines; put the words in <title>/<desc> so they can be found.
void add_svg_text(std::string* svg, const Figure& fig, const std::vector<std::string>& texts) {
  const auto open = svg->find("<svg");
  if (open == std::string::npos) return;
  const auto end = svg->find('>', open);
  if (end == std::string::npos) return;
  std::string title = fig.title;
  if (title.empty() && !fig.axes.empty()) {
    const Axes& a = fig.axes.front();
    title = !a.title.empty() ? a.title : a.ylabel.empty() ? a.xlabel : a.ylabel + " vs " + a.xlabel;
  }
  std::string meta =
      "\n<title>" + xml_escape(title.empty() ? "figure" : title) + "</title>\n<desc>";
  for (const auto& t : texts) meta += xml_escape(t) + "\n";
  meta += "</desc>";
  svg->insert(end + 1, meta);
}

#ifdef D2L_HAVE_ZLIB
// PNG encoding with zlib's fastest setting: cairo's writer (libpng defaults) spends ~3 ms on a
// 350x250 chart, this ~0.5 ms, for files about 20 % larger.
void put_u32(std::string* out, uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  out->append(b, 4);
}

void put_chunk(std::string* out, const char* type, const std::string& data) {
  put_u32(out, static_cast<uint32_t>(data.size()));
  const std::size_t start = out->size();
  out->append(type, 4);
  out->append(data);
  const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(out->data() + start),
                          static_cast<uInt>(out->size() - start));
  put_u32(out, static_cast<uint32_t>(crc));
}

std::string encode_png(cairo_surface_t* s) {
  cairo_surface_flush(s);
  const int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
  const int stride = cairo_image_surface_get_stride(s);
  const unsigned char* data = cairo_image_surface_get_data(s);
  std::string raw;
  raw.resize(static_cast<std::size_t>(h) * (1 + 3 * static_cast<std::size_t>(w)));
  char* q = &raw[0];
  for (int y = 0; y < h; ++y) {
    *q++ = 0;  // filter: none
    const auto* row =
        reinterpret_cast<const uint32_t*>(data + static_cast<std::size_t>(y) * stride);
    for (int x = 0; x < w; ++x) {
      const uint32_t px = row[x];
      *q++ = static_cast<char>(px >> 16);
      *q++ = static_cast<char>(px >> 8);
      *q++ = static_cast<char>(px);
    }
  }
  uLongf zlen = compressBound(static_cast<uLong>(raw.size()));
  std::string z(zlen, '\0');
  if (compress2(reinterpret_cast<Bytef*>(&z[0]), &zlen, reinterpret_cast<const Bytef*>(raw.data()),
                static_cast<uLong>(raw.size()), 1) != Z_OK)
    throw Error("figure: PNG compression failed");
  z.resize(zlen);
  std::string out("\x89PNG\r\n\x1a\n", 8);
  std::string ihdr;
  put_u32(&ihdr, static_cast<uint32_t>(w));
  put_u32(&ihdr, static_cast<uint32_t>(h));
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8 bits, RGB, deflate, no filter, no interlace
  put_chunk(&out, "IHDR", ihdr);
  put_chunk(&out, "IDAT", z);
  put_chunk(&out, "IEND", "");
  return out;
}
#endif

}  // namespace

bool have_cairo() { return true; }

std::string render_figure(const Figure& fig, ImageFormat format) {
  if (!(fig.width > 0.1 && fig.height > 0.1 && fig.width < 200 && fig.height < 200))
    throw bad_input("figure: size " + std::to_string(fig.width) + "x" + std::to_string(fig.height) +
                    " inches out of range");
  if (!(fig.scale > 0 && fig.scale <= 20)) throw bad_input("figure: scale must be in (0, 20]");
  std::string out;
  std::vector<std::string> texts;
  const double W = fig.width * 72, H = fig.height * 72;
  if (format == ImageFormat::Png) {
    const auto [pw, ph] = png_size(fig);
    SurfacePtr s(cairo_image_surface_create(CAIRO_FORMAT_RGB24, pw, ph), cairo_surface_destroy);
    check(cairo_surface_status(s.get()), "cannot make a PNG surface");
    {
      ContextPtr cr(cairo_create(s.get()), cairo_destroy);
      cairo_scale(cr.get(), pw / W, ph / H);
      draw_figure(cr.get(), fig, nullptr);
      check(cairo_status(cr.get()), "drawing failed");
    }
#ifdef D2L_HAVE_ZLIB
    return encode_png(s.get());
#else
    check(cairo_surface_write_to_png_stream(s.get(), append, &out), "PNG encoding failed");
    return out;
#endif
  }
  SurfacePtr s(format == ImageFormat::Svg ? cairo_svg_surface_create_for_stream(append, &out, W, H)
                                          : cairo_pdf_surface_create_for_stream(append, &out, W, H),
               cairo_surface_destroy);
  check(cairo_surface_status(s.get()), "cannot make a vector surface");
  if (format == ImageFormat::Pdf) {
    cairo_pdf_surface_set_metadata(s.get(), CAIRO_PDF_METADATA_CREATOR, "d2l-cpp");
    if (!fig.title.empty())
      cairo_pdf_surface_set_metadata(s.get(), CAIRO_PDF_METADATA_TITLE, fig.title.c_str());
  }
  {
    ContextPtr cr(cairo_create(s.get()), cairo_destroy);
    draw_figure(cr.get(), fig, &texts);
    check(cairo_status(cr.get()), "drawing failed");
  }
  cairo_surface_finish(s.get());
  check(cairo_surface_status(s.get()), "writing failed");
  if (format == ImageFormat::Svg) add_svg_text(&out, fig, texts);
  return out;
}

Raster read_png(const std::string& path) {
  SurfacePtr s(cairo_image_surface_create_from_png(path.c_str()), cairo_surface_destroy);
  if (cairo_surface_status(s.get()) != CAIRO_STATUS_SUCCESS)
    throw Error(path +
                ": cannot read PNG: " + cairo_status_to_string(cairo_surface_status(s.get())));
  cairo_surface_flush(s.get());
  Raster r;
  r.width = cairo_image_surface_get_width(s.get());
  r.height = cairo_image_surface_get_height(s.get());
  const int stride = cairo_image_surface_get_stride(s.get());
  const unsigned char* data = cairo_image_surface_get_data(s.get());
  r.rgb.resize(static_cast<std::size_t>(r.width) * r.height * 3);
  for (int y = 0; y < r.height; ++y) {
    const auto* row = reinterpret_cast<const uint32_t*>(data + y * stride);
    for (int x = 0; x < r.width; ++x) {
      const uint32_t px = row[x];
      uint8_t* d = &r.rgb[(static_cast<std::size_t>(y) * r.width + x) * 3];
      d[0] = (px >> 16) & 0xff, d[1] = (px >> 8) & 0xff, d[2] = px & 0xff;
    }
  }
  return r;
}

}  // namespace d2l::viz
