#pragma once
/// \file d2l/viz/animator.h
/// The book's `d2l.Animator`: plots data as it arrives. Each add() redraws a picture file
/// (written atomically, so a viewer never shows half of it) and, when stderr is a terminal, a
/// live braille chart in place with the latest values. Drawing never stops training: a failure
/// (unwritable path, full disk, no Cairo) prints one warning to stderr and add() goes on.
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "d2l/viz/figure.h"
#include "d2l/viz/plot.h"
#include "d2l/viz/terminal_chart.h"

namespace d2l {

/// The Animator's settings: the book's constructor arguments plus where to draw.
struct AnimatorOptions {
  std::string xlabel;                            ///< x axis label, e.g. "epoch"
  std::string ylabel;                            ///< y axis label
  std::vector<std::string> legend;               ///< one name per line
  std::optional<viz::Range> xlim;                ///< e.g. {1, num_epochs}; empty: the data's
  std::optional<viz::Range> ylim;                ///< empty: the data's
  viz::Scale xscale = viz::Scale::Linear;        ///< linear or log
  viz::Scale yscale = viz::Scale::Linear;        ///< linear or log
  std::vector<std::string> fmts = kDefaultFmts;  ///< cycled over the lines
  int nrows = 1;                                 ///< panels (the lines go to the first)
  int ncols = 1;                                 ///< panels
  std::pair<double, double> figsize{3.5, 2.5};   ///< inches
  std::string path = "animator.png";  ///< redrawn on every add (.png .svg .pdf); "" for none
  double scale = 1.0;                 ///< PNG pixels per inch / 100 (2 for HiDPI)
  bool terminal = true;               ///< the live chart, when `stream` is a terminal
  std::FILE* stream = stderr;         ///< where the live chart and the warning go
  int chart_height = 8;               ///< rows of the live chart
};

/// For plotting data in animation, as `d2l.Animator`. Thread-safe: add() may be called from
/// several threads. Typical use (train_ch6):
///
///     d2l::Animator animator("epoch", "", {"train loss", "train acc", "test acc"},
///                            d2l::viz::Range{1, num_epochs});
///     animator.add(epoch + (i + 1) / double(num_batches), {loss, acc, std::nullopt});
///     animator.add(epoch + 1, {std::nullopt, std::nullopt, test_acc});
class Animator {
 public:
  /// Settings as a struct; throws d2l::Error (BadInput) for a malformed format, figure
  /// size or picture extension.
  explicit Animator(AnimatorOptions opts);
  /// The book's argument order, plus the picture's path; the scales are the book's words,
  /// "linear" or "log" (viz::parse_scale: d2l::Error (BadInput) for any other).
  explicit Animator(const std::string& xlabel = "", const std::string& ylabel = "",
                    const std::vector<std::string>& legend = {},
                    std::optional<viz::Range> xlim = {}, std::optional<viz::Range> ylim = {},
                    const std::string& xscale = "linear", const std::string& yscale = "linear",
                    const std::vector<std::string>& fmts = kDefaultFmts, int nrows = 1,
                    int ncols = 1, std::pair<double, double> figsize = {3.5, 2.5},
                    const std::string& path = "animator.png");
  /// Leaves the live chart on screen.
  ~Animator();
  Animator(const Animator&) = delete;
  Animator& operator=(const Animator&) = delete;

  /// Adds one point to each line at the same x; a missing value (nullopt or NaN) adds nothing
  /// to its line. Then redraws the file and the live chart. Never throws.
  void add(double x, const std::vector<std::optional<double>>& ys) noexcept;
  /// Adds (xs[i], ys[i]) to line i; xs and ys have the same count. Never throws.
  void add(const std::vector<double>& xs, const std::vector<std::optional<double>>& ys) noexcept;

  /// The figure as drawn now (to save elsewhere, e.g. a second format).
  viz::Figure figure() const;
  /// The lines so far (label, fmt and the points added).
  std::vector<viz::Series> series() const;
  /// Writes the current figure to `path`; throws d2l::Error on failure (unlike add).
  void save(const std::string& path) const;
  /// Redraws the picture and the live chart now (add does it already). Never throws.
  void redraw() noexcept;
  /// Call after printing your own lines under the live chart: the next redraw starts below
  /// them instead of overwriting them.
  void detach_terminal();
  /// Whether the live chart draws (terminal on, stream is a terminal).
  bool live() const;
  /// The last drawing error ("" when the last redraw worked).
  std::string last_error() const;

 private:
  viz::Figure figure_locked() const;
  void redraw_locked() noexcept;
  void warn_locked(const std::string& what) noexcept;

  AnimatorOptions opts_;
  viz::Scale xscale_ = viz::Scale::Linear;
  viz::Scale yscale_ = viz::Scale::Linear;
  std::vector<viz::Series> lines_;
  viz::TerminalChart chart_;
  mutable std::mutex mu_;
  bool warned_ = false;
  std::string last_error_;
};

}  // namespace d2l
