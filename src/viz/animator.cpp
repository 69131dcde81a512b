#include "d2l/viz/animator.h"

#include <algorithm>
#include <cmath>

#include "d2l/core/error.h"

namespace d2l {
namespace {

AnimatorOptions book_options(const std::string& xlabel, const std::string& ylabel,
                             const std::vector<std::string>& legend, std::optional<viz::Range> xlim,
                             std::optional<viz::Range> ylim, const std::string& xscale,
                             const std::string& yscale, const std::vector<std::string>& fmts,
                             int nrows, int ncols, std::pair<double, double> figsize,
                             const std::string& path) {
  AnimatorOptions o;
  o.xlabel = xlabel;
  o.ylabel = ylabel;
  o.legend = legend;
  o.xlim = xlim;
  o.ylim = ylim;
  o.xscale = viz::parse_scale(xscale);
  o.yscale = viz::parse_scale(yscale);
  o.fmts = fmts;
  o.nrows = nrows;
  o.ncols = ncols;
  o.figsize = figsize;
  o.path = path;
  return o;
}

}  // namespace

Animator::Animator(AnimatorOptions opts)
    : opts_(std::move(opts)), chart_(opts_.stream ? opts_.stream : stderr) {
  xscale_ = opts_.xscale;
  yscale_ = opts_.yscale;
  if (opts_.fmts.empty()) throw bad_input("Animator: fmts is empty");
  for (const auto& f : opts_.fmts) viz::parse_format(f);
  if (opts_.nrows < 1 || opts_.ncols < 1 || opts_.nrows * opts_.ncols > 64)
    throw bad_input("Animator: nrows and ncols must be 1 or more");
  if (!(opts_.figsize.first > 0.1 && opts_.figsize.second > 0.1))
    throw bad_input("Animator: figsize must be positive");
  if (!opts_.path.empty()) viz::format_for_path(opts_.path);
  if (!opts_.stream) opts_.stream = stderr;
}

Animator::Animator(const std::string& xlabel, const std::string& ylabel,
                   const std::vector<std::string>& legend, std::optional<viz::Range> xlim,
                   std::optional<viz::Range> ylim, const std::string& xscale,
                   const std::string& yscale, const std::vector<std::string>& fmts, int nrows,
                   int ncols, std::pair<double, double> figsize, const std::string& path)
    : Animator(book_options(xlabel, ylabel, legend, xlim, ylim, xscale, yscale, fmts, nrows, ncols,
                            figsize, path)) {}

Animator::~Animator() = default;

void Animator::add(double x, const std::vector<std::optional<double>>& ys) noexcept {
  std::vector<double> xs;
  try {
    xs.assign(ys.size(), x);
  } catch (...) {
    return;
  }
  add(xs, ys);
}

void Animator::add(const std::vector<double>& xs,
                   const std::vector<std::optional<double>>& ys) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    const std::size_t n = std::min(xs.size(), ys.size());
    while (lines_.size() < n) {
      viz::Series s;
      const std::size_t i = lines_.size();
      s.fmt = opts_.fmts[i % opts_.fmts.size()];
      if (i < opts_.legend.size()) s.label = opts_.legend[i];
      lines_.push_back(std::move(s));
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (!ys[i] || !std::isfinite(*ys[i]) || !std::isfinite(xs[i])) continue;
      lines_[i].x.push_back(xs[i]);
      lines_[i].y.push_back(*ys[i]);
    }
  } catch (const std::exception& e) {
    warn_locked(e.what());
    return;
  }
  redraw_locked();
}

viz::Figure Animator::figure_locked() const {
  viz::Figure fig;
  fig.width = opts_.figsize.first;
  fig.height = opts_.figsize.second;
  fig.scale = opts_.scale;
  fig.nrows = opts_.nrows;
  fig.ncols = opts_.ncols;
  viz::Axes ax;
  ax.xlabel = opts_.xlabel;
  ax.ylabel = opts_.ylabel;
  ax.xlim = opts_.xlim;
  ax.ylim = opts_.ylim;
  ax.xscale = xscale_;
  ax.yscale = yscale_;
  ax.series = lines_;
  fig.axes.push_back(std::move(ax));
  return fig;
}

viz::Figure Animator::figure() const {
  std::lock_guard<std::mutex> lock(mu_);
  return figure_locked();
}

std::vector<viz::Series> Animator::series() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lines_;
}

void Animator::save(const std::string& path) const {
  viz::Figure fig = figure();
  viz::save_figure(fig, path);
}

void Animator::redraw() noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  redraw_locked();
}

void Animator::redraw_locked() noexcept {
  std::string error;
  try {
    if (chart_.active() && opts_.terminal) {
      viz::TerminalChartOptions t;
      t.height = opts_.chart_height;
      t.width = std::clamp(chart_.columns() - 10, 8, 72);
      t.columns = chart_.columns() - 1;
      t.xlim = opts_.xlim;
      t.ylim = opts_.ylim;
      t.yscale = yscale_;
      t.xlabel = opts_.xlabel;
      chart_.draw(viz::render_terminal_chart(lines_, t));
    }
  } catch (const std::exception& e) {
    error = std::string("live chart: ") + e.what();
  }
  try {
    if (!opts_.path.empty()) viz::save_figure(figure_locked(), opts_.path, /*sync=*/false);
  } catch (const std::exception& e) {
    error = e.what();
    if (error.find(opts_.path) == std::string::npos) error = opts_.path + ": " + error;
  } catch (...) {
    error = opts_.path + ": drawing failed";
  }
  last_error_ = error;
  if (!error.empty()) warn_locked(error);
}

void Animator::warn_locked(const std::string& what) noexcept {
  last_error_ = what;
  if (warned_) return;
  warned_ = true;
  if (chart_.active() && opts_.terminal) chart_.detach();
  std::fprintf(opts_.stream,
               "d2l: warning: Animator: %s (training goes on; further drawing "
               "errors are not shown)\n",
               what.c_str());
  std::fflush(opts_.stream);
}

void Animator::detach_terminal() {
  std::lock_guard<std::mutex> lock(mu_);
  chart_.detach();
}

bool Animator::live() const { return chart_.active() && opts_.terminal; }

std::string Animator::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

}  // namespace d2l
