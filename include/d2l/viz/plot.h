#pragma once
/// \file d2l/viz/plot.h
/// The book's `d2l.plot`: data points as lines in one chart, written to a file.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "d2l/viz/figure.h"

namespace d2l {

/// The book's default line formats: solid, magenta dashed, green dash-dot, red dotted.
inline const std::vector<std::string> kDefaultFmts = {"-", "m--", "g-.", "r:"};

/// Everything `d2l.plot` takes, with the book's defaults.
struct PlotOptions {
  std::string xlabel;                            ///< x axis label
  std::string ylabel;                            ///< y axis label
  std::vector<std::string> legend;               ///< one entry per line; empty: no legend
  std::optional<viz::Range> xlim;                ///< empty: from the data
  std::optional<viz::Range> ylim;                ///< empty: from the data
  viz::Scale xscale = viz::Scale::Linear;        ///< linear or log
  viz::Scale yscale = viz::Scale::Linear;        ///< linear or log
  std::vector<std::string> fmts = kDefaultFmts;  ///< cycled over the lines
  std::pair<double, double> figsize{3.5, 2.5};   ///< inches
  double scale = 1.0;                            ///< PNG pixels per inch / 100
  std::string title;                             ///< over the chart
};

/// The chart `plot` would draw, to combine or save yourself. `X` holds one x list for all
/// lines or one per line; when `Ys` is empty the lists of `X` are the y values and x is
/// 0, 1, 2, ... (as the book's `plot(x)`). NaN values are skipped. Throws d2l::Error (BadInput)
/// when the counts do not match or a format is malformed.
viz::Figure make_plot(const std::vector<std::vector<double>>& X,
                      const std::vector<std::vector<double>>& Ys, const PlotOptions& opts = {});

/// Draws `Ys` against `X` as make_plot() does and writes the picture to `path` (.png, .svg,
/// .pdf) atomically. Throws d2l::Error naming the path when it cannot be written.
void plot(const std::vector<std::vector<double>>& X, const std::vector<std::vector<double>>& Ys,
          const PlotOptions& opts, const std::string& path);

/// The book's argument order: plot(X, Ys, xlabel, ylabel, legend, xlim, ylim, xscale, yscale,
/// fmts, figsize) plus the output path; the scales are the book's words, "linear" or "log"
/// (viz::parse_scale: d2l::Error (BadInput) for any other).
void plot(const std::vector<std::vector<double>>& X, const std::vector<std::vector<double>>& Ys,
          const std::string& xlabel, const std::string& ylabel = "",
          const std::vector<std::string>& legend = {}, std::optional<viz::Range> xlim = {},
          std::optional<viz::Range> ylim = {}, const std::string& xscale = "linear",
          const std::string& yscale = "linear", const std::vector<std::string>& fmts = kDefaultFmts,
          std::pair<double, double> figsize = {3.5, 2.5}, const std::string& path = "plot.png");

/// One line: plot(x, y) with the options, written to `path`.
void plot(const std::vector<double>& x, const std::vector<double>& y, const PlotOptions& opts,
          const std::string& path);

}  // namespace d2l
