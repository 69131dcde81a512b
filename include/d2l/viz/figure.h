#pragma once
/// \file d2l/viz/figure.h
/// The figure layer: a Figure holds a grid of Axes (lines, an image or a heatmap, text in
/// cells), and render_figure()/save_figure() draw it with Cairo to PNG, SVG or PDF. Everything is
/// plain data, so figures are built from buffers without LibTorch. Sizes are in inches and
/// points as in matplotlib; a PNG has 100 * scale pixels per inch. Rendering is thread-safe:
/// several threads may render different figures at once.
///
/// Built without Cairo (D2L_HAVE_CAIRO undefined), have_cairo() is false and rendering throws
/// d2l::Error "... built without Cairo"; everything else works.
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "d2l/viz/ticks.h"

namespace d2l::viz {

/// A colour, each channel in [0, 1].
struct Rgb {
  double r = 0, g = 0, b = 0;
};

/// Parses "#rrggbb", a one-letter matplotlib colour (b g r c m y k w), "C0".."C9" (the default
/// cycle) or a few names (blue, orange, green, red, purple, brown, pink, gray, olive, cyan,
/// black, white). Throws d2l::Error (BadInput) otherwise.
Rgb parse_color(const std::string& spec);

/// The i-th colour of matplotlib's default cycle (tab10: blue, orange, green, red, ...).
Rgb cycle_color(std::size_t i);

/// How a line is dashed.
enum class Dash { None, Solid, Dashed, DashDot, Dotted };

/// A parsed matplotlib format string such as "-", "m--", "g-.", "r:", "o", "k.-".
struct LineFormat {
  std::optional<Rgb> color;  ///< empty: take the next colour of the cycle
  Dash dash = Dash::Solid;   ///< Dash::None when the format has a marker and no line
  char marker = 0;           ///< 0 or one of . o s ^ v x + * D
};

/// Parses a format string: at most one colour letter, one line style and one marker, in any
/// order; "" means a solid line. Throws d2l::Error (BadInput) naming the format otherwise.
LineFormat parse_format(const std::string& fmt);

/// One line of a chart. Points whose x or y is NaN are skipped: the line breaks there.
struct Series {
  std::vector<double> x;     ///< x values, the same count as y
  std::vector<double> y;     ///< y values
  std::string fmt;           ///< matplotlib format, e.g. "m--"
  std::string label;         ///< legend entry; empty: not in the legend
  std::optional<Rgb> color;  ///< when set, overrides the format's colour and the cycle
};

/// The colour each series is drawn in: its format's colour, else the next colour of the cycle
/// (only series without a colour advance it, as in matplotlib). Throws on a malformed format.
std::vector<Rgb> resolve_colors(const std::vector<Series>& series);

/// Named colour maps for images and heatmaps.
enum class ColorMap { Gray, Viridis, Reds, Blues };

/// "gray"/"grey", "viridis", "Reds", "Blues" (case-insensitive); throws d2l::Error (BadInput).
ColorMap parse_cmap(const std::string& name);

/// The colour of t in [0, 1] (clamped) in `cmap`.
Rgb cmap_color(ColorMap cmap, double t);

/// An RGB raster to draw into axes, row-major, 3 bytes a pixel, row 0 on top.
struct Raster {
  int height = 0;            ///< rows
  int width = 0;             ///< columns
  std::vector<uint8_t> rgb;  ///< height * width * 3 bytes
};

/// Text placed at data coordinates (centre of the text), e.g. counts in confusion cells.
struct CellText {
  double x = 0;      ///< data x of the text's centre
  double y = 0;      ///< data y of the text's centre
  std::string text;  ///< the text
  Rgb color;         ///< its colour
};

/// One panel of a figure.
struct Axes {
  std::string title;                      ///< above the panel
  std::string xlabel;                     ///< below the x axis
  std::string ylabel;                     ///< left of the y axis, rotated
  std::optional<Range> xlim;              ///< empty: from the data, with 5 % margins
  std::optional<Range> ylim;              ///< empty: from the data, with 5 % margins
  Scale xscale = Scale::Linear;           ///< linear or log
  Scale yscale = Scale::Linear;           ///< linear or log
  bool grid = true;                       ///< light grid lines at the ticks (as d2l's set_axes)
  bool legend = true;                     ///< a legend when any series has a label
  bool axis_visible = true;               ///< false: no frame, ticks or labels (show_images)
  std::vector<Series> series;             ///< the lines, drawn in order
  std::optional<Raster> image;            ///< drawn over x in [-0.5, w-0.5], y in [-0.5, h-0.5]
                                          ///< (row 0 on top), keeping square pixels
  std::vector<CellText> texts;            ///< texts at data coordinates, over everything else
  std::vector<std::string> xtick_labels;  ///< non-empty: ticks at 0..n-1 with these labels
  std::vector<std::string> ytick_labels;  ///< non-empty: ticks at 0..n-1 (top to bottom
                                          ///< when an image is shown)
  double xtick_rotation = 0;              ///< degrees, for long category names (e.g. 45)
  bool xtick_labels_shown = true;         ///< false: ticks without labels (panels sharing x)
  bool ytick_labels_shown = true;         ///< false: ticks without labels (panels sharing y)
};

/// A colour bar at the right of the figure, for heatmaps.
struct Colorbar {
  ColorMap cmap = ColorMap::Viridis;  ///< colour map
  double vmin = 0;                    ///< value at the bottom
  double vmax = 1;                    ///< value at the top
};

/// A whole picture.
struct Figure {
  double width = 3.5;      ///< inches (the book's default figsize is 3.5 x 2.5)
  double height = 2.5;     ///< inches
  double scale = 1.0;      ///< PNG resolution: 100 * scale pixels per inch (2: sharp on HiDPI)
  double font_size = 10;   ///< points, for labels, ticks and legend (matplotlib's default)
  int nrows = 1;           ///< rows of panels
  int ncols = 1;           ///< columns of panels
  std::vector<Axes> axes;  ///< row-major, up to nrows * ncols; missing ones stay blank
  std::string title;       ///< over the whole figure
  std::optional<Colorbar> colorbar;  ///< for heatmaps
};

/// Output formats.
enum class ImageFormat { Png, Svg, Pdf };

/// The format for a file name's extension (.png .svg .pdf, any case); throws d2l::Error
/// (BadInput) naming the path otherwise.
ImageFormat format_for_path(const std::string& path);

/// True when this build draws (Cairo found at configure time).
bool have_cairo();

/// The PNG's size in pixels for a figure: round(width * 100 * scale) x round(height * 100 *
/// scale).
std::pair<int, int> png_size(const Figure& fig);

/// Draws `fig` and returns the file's bytes. In SVG every text drawn also appears, as text, in
/// a `<desc>` element (one line each) after the `<title>` (Cairo writes text as glyph outlines),
/// so the words are searchable and checkable. Throws d2l::Error on a drawing failure, a
/// malformed figure (e.g. an image whose buffer size is wrong) or without Cairo.
std::string render_figure(const Figure& fig, ImageFormat format);

/// Reads a PNG file into an RGB raster (alpha dropped), e.g. to check a picture's pixels.
/// Throws d2l::Error naming the path when it cannot, or without Cairo.
Raster read_png(const std::string& path);

/// Renders `fig` in the format of `path`'s extension and writes it atomically: a temporary file
/// in the same folder renamed over `path`, so a reader never sees half a picture. With `sync`
/// (the default) it is d2l::write_file_atomic, fsync included; without, the fsyncs are skipped
/// (10+ ms each here): still atomic, not durable across a power cut, which suits a picture
/// redrawn every few seconds (the Animator). Throws d2l::Error naming the path when it cannot
/// write.
void save_figure(const Figure& fig, const std::string& path, bool sync = true);

/// save_figure() that never throws, for pictures made during training (predictions,
/// confusion): on failure prints one line `d2l: warning: <why> (...)` to `warn` (when not
/// null) and returns false.
bool try_save_figure(const Figure& fig, const std::string& path, std::FILE* warn = stderr) noexcept;

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, without
/// fsync. Throws d2l::Error naming the path.
void write_file_replace(const std::string& path, const std::string& bytes);

}  // namespace d2l::viz
