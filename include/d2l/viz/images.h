#pragma once
/// \file d2l/viz/images.h
/// The book's `show_images` and `show_heatmaps`, and a confusion matrix, drawn from plain
/// buffers (no tensors) into a picture file.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "d2l/viz/figure.h"

namespace d2l {

/// An image as a plain buffer, H x W x C row-major (C = 1 grey, 3 RGB, 4 RGBA: alpha ignored).
/// From bytes, 0..255 is black..white. From floats, RGB values are clipped to [0, 1]; a
/// single channel is stretched from its minimum to its maximum, as matplotlib's imshow does.
class Image {
 public:
  /// Bytes; throws d2l::Error (BadInput) when data.size() != h * w * c or c is not 1, 3 or 4.
  Image(std::vector<uint8_t> data, int height, int width, int channels = 1);
  /// Floats; the same checks.
  Image(std::vector<float> data, int height, int width, int channels = 1);
  /// Rows.
  int height() const { return height_; }
  /// Columns.
  int width() const { return width_; }
  /// Channels: 1, 3 or 4.
  int channels() const { return channels_; }
  /// The image as RGB bytes; a grey image goes through `cmap`.
  viz::Raster to_raster(viz::ColorMap cmap = viz::ColorMap::Gray) const;

 private:
  std::vector<float> data_;  // 0..1 for bytes, raw for floats
  int height_, width_, channels_;
  bool from_bytes_;
};

/// A matrix of values, row-major, for heatmaps.
struct Matrix {
  int rows = 0;                ///< rows
  int cols = 0;                ///< columns
  std::vector<double> values;  ///< rows * cols values
};

/// The figure of show_images: num_rows x num_cols panels of (num_cols * scale) x
/// (num_rows * scale) inches, each image with its title above it, no axes. Images beyond the
/// grid are left out; missing ones leave blank panels. Throws d2l::Error (BadInput) for
/// num_rows or num_cols < 1.
viz::Figure make_images_figure(const std::vector<Image>& imgs, int num_rows, int num_cols,
                               const std::vector<std::string>& titles = {}, double scale = 1.5,
                               const std::string& cmap = "gray");

/// Plots a list of images, as the book's `show_images`, into `path` (.png .svg .pdf),
/// atomically. Throws d2l::Error naming the path when it cannot be written.
void show_images(const std::vector<Image>& imgs, int num_rows, int num_cols,
                 const std::vector<std::string>& titles = {}, double scale = 1.5,
                 const std::string& path = "images.png", const std::string& cmap = "gray");

/// The figure of show_heatmaps: matrices[i][j] in row i, column j; `xlabel` under the bottom
/// row, `ylabel` left of the first column, titles[j] over column j; one colour scale for all
/// (the smallest to the largest value), shown as a colour bar. Throws d2l::Error (BadInput)
/// for an empty grid, ragged rows or a matrix whose size is wrong.
viz::Figure make_heatmaps_figure(const std::vector<std::vector<Matrix>>& matrices,
                                 const std::string& xlabel, const std::string& ylabel,
                                 const std::vector<std::string>& titles = {},
                                 std::pair<double, double> figsize = {2.5, 2.5},
                                 const std::string& cmap = "Reds");

/// Shows heatmaps of matrices, as the book's `show_heatmaps` (attention weights), into `path`.
void show_heatmaps(const std::vector<std::vector<Matrix>>& matrices, const std::string& xlabel,
                   const std::string& ylabel, const std::vector<std::string>& titles = {},
                   std::pair<double, double> figsize = {2.5, 2.5}, const std::string& cmap = "Reds",
                   const std::string& path = "heatmaps.png");

/// counts[t][p]: how many examples of class t were predicted as p. Throws d2l::Error (BadInput)
/// when a label is outside [0, num_classes) or the lists differ in length.
std::vector<std::vector<long>> confusion_matrix(const std::vector<int>& y_true,
                                                const std::vector<int>& y_pred, int num_classes);

/// The confusion matrix figure: rows the true class, columns the predicted one, class names
/// on both axes (x names turned 45 degrees), the count in every cell (white on dark cells), a
/// colour bar. `figsize` 0 x 0 picks one from the number of classes. Throws d2l::Error
/// (BadInput) when counts is not square or class_names has another size (when not empty).
viz::Figure make_confusion_figure(const std::vector<std::vector<long>>& counts,
                                  const std::vector<std::string>& class_names,
                                  const std::string& title = "",
                                  std::pair<double, double> figsize = {0, 0},
                                  const std::string& cmap = "Blues");

/// Draws make_confusion_figure into `path` (.png .svg .pdf), atomically.
void plot_confusion_matrix(const std::vector<std::vector<long>>& counts,
                           const std::vector<std::string>& class_names, const std::string& path,
                           const std::string& title = "",
                           std::pair<double, double> figsize = {0, 0},
                           const std::string& cmap = "Blues");

}  // namespace d2l
