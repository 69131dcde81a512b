#include "d2l/viz/images.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "d2l/core/error.h"

namespace d2l {
namespace {

void check_shape(std::size_t size, int h, int w, int c) {
  if (h <= 0 || w <= 0 || !(c == 1 || c == 3 || c == 4))
    throw bad_input("image: shape " + std::to_string(h) + "x" + std::to_string(w) + "x" +
                    std::to_string(c) + " (need H, W > 0 and 1, 3 or 4 channels)");
  if (size != static_cast<std::size_t>(h) * w * c)
    throw bad_input("image: buffer holds " + std::to_string(size) + " values, shape " +
                    std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(c) +
                    " needs " + std::to_string(static_cast<std::size_t>(h) * w * c));
}

uint8_t to_byte(double v) {
  if (!(v >= 0)) return 0;
  if (v >= 1) return 255;
  return static_cast<uint8_t>(std::lround(v * 255));
}

}  // namespace

Image::Image(std::vector<uint8_t> data, int height, int width, int channels)
    : height_(height), width_(width), channels_(channels), from_bytes_(true) {
  check_shape(data.size(), height, width, channels);
  data_.resize(data.size());
  for (std::size_t i = 0; i < data.size(); ++i) data_[i] = data[i] / 255.0f;
}

Image::Image(std::vector<float> data, int height, int width, int channels)
    : data_(std::move(data)),
      height_(height),
      width_(width),
      channels_(channels),
      from_bytes_(false) {
  check_shape(data_.size(), height, width, channels);
}

viz::Raster Image::to_raster(viz::ColorMap cmap) const {
  viz::Raster r;
  r.height = height_;
  r.width = width_;
  const std::size_t n = static_cast<std::size_t>(height_) * width_;
  r.rgb.resize(n * 3);
  if (channels_ == 1) {
    double lo = 0, hi = 1;
    if (!from_bytes_) {
      lo = std::numeric_limits<double>::infinity(), hi = -lo;
      for (float v : data_)
        if (std::isfinite(v)) lo = std::min<double>(lo, v), hi = std::max<double>(hi, v);
      if (!(hi > lo)) hi = lo + 1;  // constant (or empty): the lowest colour
    }
    for (std::size_t i = 0; i < n; ++i) {
      const viz::Rgb c = viz::cmap_color(cmap, (data_[i] - lo) / (hi - lo));
      r.rgb[3 * i] = to_byte(c.r), r.rgb[3 * i + 1] = to_byte(c.g), r.rgb[3 * i + 2] = to_byte(c.b);
    }
  } else {
    for (std::size_t i = 0; i < n; ++i)
      for (int k = 0; k < 3; ++k) r.rgb[3 * i + k] = to_byte(data_[i * channels_ + k]);
  }
  return r;
}

viz::Figure make_images_figure(const std::vector<Image>& imgs, int num_rows, int num_cols,
                               const std::vector<std::string>& titles, double scale,
                               const std::string& cmap) {
  if (num_rows < 1 || num_cols < 1 || num_rows * num_cols > 10000)
    throw bad_input("show_images: num_rows and num_cols must be 1 or more");
  if (!(scale > 0)) throw bad_input("show_images: scale must be positive");
  const viz::ColorMap cm = viz::parse_cmap(cmap);
  viz::Figure fig;
  fig.nrows = num_rows;
  fig.ncols = num_cols;
  fig.width = num_cols * scale;
  fig.height = num_rows * scale;
  const std::size_t n = std::min(imgs.size(), static_cast<std::size_t>(num_rows) * num_cols);
  for (std::size_t i = 0; i < n; ++i) {
    viz::Axes ax;
    ax.axis_visible = false;
    ax.image = imgs[i].to_raster(cm);
    if (i < titles.size()) ax.title = titles[i];
    fig.axes.push_back(std::move(ax));
  }
  return fig;
}

void show_images(const std::vector<Image>& imgs, int num_rows, int num_cols,
                 const std::vector<std::string>& titles, double scale, const std::string& path,
                 const std::string& cmap) {
  viz::save_figure(make_images_figure(imgs, num_rows, num_cols, titles, scale, cmap), path);
}

viz::Figure make_heatmaps_figure(const std::vector<std::vector<Matrix>>& matrices,
                                 const std::string& xlabel, const std::string& ylabel,
                                 const std::vector<std::string>& titles,
                                 std::pair<double, double> figsize, const std::string& cmap) {
  if (matrices.empty() || matrices.front().empty()) throw bad_input("show_heatmaps: no matrices");
  const std::size_t cols = matrices.front().size();
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& row : matrices) {
    if (row.size() != cols) throw bad_input("show_heatmaps: rows of matrices differ in length");
    for (const auto& m : row) {
      if (m.rows <= 0 || m.cols <= 0 ||
          m.values.size() != static_cast<std::size_t>(m.rows) * m.cols)
        throw bad_input("show_heatmaps: matrix " + std::to_string(m.rows) + "x" +
                        std::to_string(m.cols) + " holds " + std::to_string(m.values.size()) +
                        " values");
      for (double v : m.values)
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    }
  }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (!(hi > lo)) hi = lo + 1;
  const viz::ColorMap cm = viz::parse_cmap(cmap);
  viz::Figure fig;
  fig.width = figsize.first;
  fig.height = figsize.second;
  fig.nrows = static_cast<int>(matrices.size());
  fig.ncols = static_cast<int>(cols);
  fig.colorbar = viz::Colorbar{cm, lo, hi};
  for (std::size_t i = 0; i < matrices.size(); ++i) {
    for (std::size_t j = 0; j < cols; ++j) {
      const Matrix& m = matrices[i][j];
      viz::Axes ax;
      viz::Raster r;
      r.height = m.rows;
      r.width = m.cols;
      r.rgb.resize(m.values.size() * 3);
      for (std::size_t k = 0; k < m.values.size(); ++k) {
        const viz::Rgb c = viz::cmap_color(cm, (m.values[k] - lo) / (hi - lo));
        r.rgb[3 * k] = to_byte(c.r), r.rgb[3 * k + 1] = to_byte(c.g),
                  r.rgb[3 * k + 2] = to_byte(c.b);
      }
      ax.image = std::move(r);
      ax.xtick_labels_shown = i + 1 == matrices.size();  // shared x and y, as the book's
      ax.ytick_labels_shown = j == 0;
      if (i + 1 == matrices.size()) ax.xlabel = xlabel;
      if (j == 0) ax.ylabel = ylabel;
      if (i == 0 && j < titles.size()) ax.title = titles[j];
      fig.axes.push_back(std::move(ax));
    }
  }
  return fig;
}

void show_heatmaps(const std::vector<std::vector<Matrix>>& matrices, const std::string& xlabel,
                   const std::string& ylabel, const std::vector<std::string>& titles,
                   std::pair<double, double> figsize, const std::string& cmap,
                   const std::string& path) {
  viz::save_figure(make_heatmaps_figure(matrices, xlabel, ylabel, titles, figsize, cmap), path);
}

std::vector<std::vector<long>> confusion_matrix(const std::vector<int>& y_true,
                                                const std::vector<int>& y_pred, int num_classes) {
  if (num_classes < 1) throw bad_input("confusion_matrix: num_classes must be 1 or more");
  if (y_true.size() != y_pred.size())
    throw bad_input("confusion_matrix: " + std::to_string(y_true.size()) + " labels, " +
                    std::to_string(y_pred.size()) + " predictions");
  std::vector<std::vector<long>> m(num_classes, std::vector<long>(num_classes, 0));
  for (std::size_t i = 0; i < y_true.size(); ++i) {
    const int t = y_true[i], p = y_pred[i];
    if (t < 0 || t >= num_classes || p < 0 || p >= num_classes)
      throw bad_input("confusion_matrix: label " +
                      std::to_string(t < 0 || t >= num_classes ? t : p) + " outside [0, " +
                      std::to_string(num_classes) + ")");
    ++m[t][p];
  }
  return m;
}

viz::Figure make_confusion_figure(const std::vector<std::vector<long>>& counts,
                                  const std::vector<std::string>& class_names,
                                  const std::string& title, std::pair<double, double> figsize,
                                  const std::string& cmap) {
  const std::size_t n = counts.size();
  if (n == 0) throw bad_input("confusion matrix: empty");
  for (const auto& row : counts)
    if (row.size() != n) throw bad_input("confusion matrix: not square");
  if (!class_names.empty() && class_names.size() != n)
    throw bad_input("confusion matrix: " + std::to_string(n) + " classes, " +
                    std::to_string(class_names.size()) + " names");
  std::vector<std::string> names = class_names;
  for (std::size_t i = names.size(); i < n; ++i) names.push_back(std::to_string(i));
  long hi = 0;
  for (const auto& row : counts)
    for (long v : row) hi = std::max(hi, v);
  const viz::ColorMap cm = viz::parse_cmap(cmap);
  viz::Axes ax;
  viz::Raster r;
  r.height = r.width = static_cast<int>(n);
  r.rgb.resize(n * n * 3);
  const double top = hi > 0 ? static_cast<double>(hi) : 1.0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      const double t = counts[i][j] / top;
      const viz::Rgb c = viz::cmap_color(cm, t);
      const std::size_t k = (i * n + j) * 3;
      r.rgb[k] = to_byte(c.r), r.rgb[k + 1] = to_byte(c.g), r.rgb[k + 2] = to_byte(c.b);
      const double luminance = 0.299 * c.r + 0.587 * c.g + 0.114 * c.b;
      const viz::Rgb ink = luminance < 0.5 ? viz::Rgb{1, 1, 1} : viz::Rgb{0, 0, 0};
      ax.texts.push_back(
          {static_cast<double>(j), static_cast<double>(i), std::to_string(counts[i][j]), ink});
    }
  }
  ax.image = std::move(r);
  ax.xtick_labels = names;
  ax.ytick_labels = names;
  ax.xtick_rotation = 45;
  ax.xlabel = "predicted";
  ax.ylabel = "true";
  ax.title = title;
  viz::Figure fig;
  if (figsize.first > 0 && figsize.second > 0) {
    fig.width = figsize.first, fig.height = figsize.second;
  } else {
    const double side = std::clamp(1.2 + 0.5 * static_cast<double>(n), 3.0, 12.0);
    fig.width = side + 0.6;
    fig.height = side;
  }
  fig.font_size = n > 12 ? 7 : 9;
  fig.colorbar = viz::Colorbar{cm, 0, static_cast<double>(hi > 0 ? hi : 1)};
  fig.axes.push_back(std::move(ax));
  return fig;
}

void plot_confusion_matrix(const std::vector<std::vector<long>>& counts,
                           const std::vector<std::string>& class_names, const std::string& path,
                           const std::string& title, std::pair<double, double> figsize,
                           const std::string& cmap) {
  viz::save_figure(make_confusion_figure(counts, class_names, title, figsize, cmap), path);
}

}  // namespace d2l
