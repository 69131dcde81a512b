#pragma once
/// \file d2l/viz/terminal_chart.h
/// A line chart in the terminal, drawn with Unicode braille dots (2 x 4 per character cell),
/// with the y range, the x range, and a legend holding each line's latest value. TerminalChart
/// redraws it in place; on a pipe or a dumb terminal it does nothing.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "d2l/viz/figure.h"

namespace d2l::viz {

/// What render_terminal_chart draws.
struct TerminalChartOptions {
  int width = 60;                ///< plot columns (characters), at least 8
  int height = 8;                ///< plot rows (characters), at least 2
  bool color = true;             ///< ANSI 256-colour escapes for the lines and legend
  std::optional<Range> xlim;     ///< empty: the data's range
  std::optional<Range> ylim;     ///< empty: the data's range
  Scale yscale = Scale::Linear;  ///< log: positive values only
  std::string xlabel;            ///< shown after the x range
  int columns = 0;               ///< > 0: legend entries wrap to keep lines this wide
};

/// The chart as text: `height` rows of braille with y labels, an x-axis row, and one legend
/// row "-- label latest". Each cell shows the dots of every line through it, coloured by the
/// last line drawn there. Lines break at NaN. Ends with a newline.
std::string render_terminal_chart(const std::vector<Series>& series,
                                  const TerminalChartOptions& opts);

/// Redraws a multi-line text block in place on a terminal stream.
class TerminalChart {
 public:
  /// Draws to `stream` (stderr by default) when it is a terminal (d2l::is_terminal).
  explicit TerminalChart(std::FILE* stream = stderr);
  /// Whether drawing does anything.
  bool active() const { return active_; }
  /// The terminal's width in columns (ioctl, else $COLUMNS, else 80).
  int columns() const;
  /// Replaces the block drawn last with `text` (lines ending in '\n'). The cursor is left at
  /// the start of the line below the block, where a progress bar may draw with '\r'.
  void draw(const std::string& text);
  /// Forgets the last block: it stays on screen and the next draw starts below the cursor.
  /// Call it after printing lines of your own under the chart.
  void detach() { lines_ = 0; }

 private:
  std::FILE* stream_;
  bool active_;
  int lines_ = 0;
};

}  // namespace d2l::viz
