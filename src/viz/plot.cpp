#include "d2l/viz/plot.h"

#include "d2l/core/error.h"

namespace d2l {

viz::Figure make_plot(const std::vector<std::vector<double>>& X,
                      const std::vector<std::vector<double>>& Ys, const PlotOptions& opts) {
  std::vector<std::vector<double>> xs = X, ys = Ys;
  if (ys.empty()) {  // plot(y): x = 0, 1, 2, ...
    ys = X;
    xs.clear();
    for (const auto& y : ys) {
      std::vector<double> idx(y.size());
      for (std::size_t i = 0; i < y.size(); ++i) idx[i] = static_cast<double>(i);
      xs.push_back(idx);
    }
  }
  if (xs.size() == 1 && ys.size() > 1) xs.assign(ys.size(), xs.front());
  if (xs.size() != ys.size())
    throw bad_input("plot: " + std::to_string(xs.size()) + " x lists for " +
                    std::to_string(ys.size()) + " y lists");
  if (opts.fmts.empty()) throw bad_input("plot: fmts is empty");
  viz::Axes ax;
  ax.xlabel = opts.xlabel;
  ax.ylabel = opts.ylabel;
  ax.xlim = opts.xlim;
  ax.ylim = opts.ylim;
  ax.xscale = opts.xscale;
  ax.yscale = opts.yscale;
  ax.title = opts.title;
  for (std::size_t i = 0; i < ys.size(); ++i) {
    if (xs[i].size() != ys[i].size())
      throw bad_input("plot: line " + std::to_string(i) + " has " + std::to_string(xs[i].size()) +
                      " x values and " + std::to_string(ys[i].size()) + " y values");
    viz::Series s;
    s.x = xs[i];
    s.y = ys[i];
    s.fmt = opts.fmts[i % opts.fmts.size()];
    viz::parse_format(s.fmt);  // fail early with the format's name
    if (i < opts.legend.size()) s.label = opts.legend[i];
    ax.series.push_back(std::move(s));
  }
  viz::Figure fig;
  fig.width = opts.figsize.first;
  fig.height = opts.figsize.second;
  fig.scale = opts.scale;
  fig.axes.push_back(std::move(ax));
  return fig;
}

void plot(const std::vector<std::vector<double>>& X, const std::vector<std::vector<double>>& Ys,
          const PlotOptions& opts, const std::string& path) {
  viz::save_figure(make_plot(X, Ys, opts), path);
}

void plot(const std::vector<std::vector<double>>& X, const std::vector<std::vector<double>>& Ys,
          const std::string& xlabel, const std::string& ylabel,
          const std::vector<std::string>& legend, std::optional<viz::Range> xlim,
          std::optional<viz::Range> ylim, const std::string& xscale, const std::string& yscale,
          const std::vector<std::string>& fmts, std::pair<double, double> figsize,
          const std::string& path) {
  PlotOptions o;
  o.xlabel = xlabel;
  o.ylabel = ylabel;
  o.legend = legend;
  o.xlim = xlim;
  o.ylim = ylim;
  o.xscale = viz::parse_scale(xscale);
  o.yscale = viz::parse_scale(yscale);
  o.fmts = fmts;
  o.figsize = figsize;
  plot(X, Ys, o, path);
}

void plot(const std::vector<double>& x, const std::vector<double>& y, const PlotOptions& opts,
          const std::string& path) {
  plot(std::vector<std::vector<double>>{x}, std::vector<std::vector<double>>{y}, opts, path);
}

}  // namespace d2l
