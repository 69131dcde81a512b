#pragma once
/// \file d2l/viz/ticks.h
/// Axis arithmetic of the figure layer: nice tick steps (linear and log), automatic limits with
/// matplotlib's 5 % margins, and tick labels. Pure functions, no Cairo, safe from any thread.
#include <string>
#include <utility>
#include <vector>

namespace d2l::viz {

/// How an axis maps values to positions, as matplotlib's `xscale`/`yscale`.
enum class Scale { Linear, Log };

/// "linear" or "log"; throws d2l::Error (BadInput) for anything else.
Scale parse_scale(const std::string& name);

/// A closed interval of data values, lo < hi for a usable axis.
struct Range {
  double lo = 0;  ///< the left or bottom end
  double hi = 1;  ///< the right or top end
};

/// The nice step (1, 2, 2.5 or 5 times a power of ten) that cuts `span` > 0 into at most
/// `max_ticks` - 1 intervals, as matplotlib's MaxNLocator does.
double nice_step(double span, int max_ticks = 6);

/// Tick positions inside [lo, hi] (both ends included up to rounding), multiples of
/// nice_step(hi - lo, max_ticks). Empty when the range is empty or not finite.
std::vector<double> linear_ticks(double lo, double hi, int max_ticks = 6);

/// Tick positions for a log axis inside [lo, hi] (lo > 0): the powers of ten; every other
/// decade or wider when that gives more than `max_ticks`; 1, 2, 5 times the powers of ten when
/// the range holds fewer than two of them. Empty when lo <= 0 or the range is empty.
std::vector<double> log_ticks(double lo, double hi, int max_ticks = 8);

/// Labels for linear ticks, all with the same number of decimals: the fewest that print every
/// tick exactly ("0.0", "0.5", "1.0"; "0.25"; "1e+06" style for |v| >= 1e5 or tiny values).
std::vector<std::string> format_ticks(const std::vector<double>& ticks);

/// A log tick's label: "1", "10", "0.1" between 0.01 and 100, else "10^{k}" (the figure layer
/// draws the part in braces as a superscript); 1-2-5 ticks print as numbers.
std::string format_log_tick(double value);

/// The automatic limits of an axis holding data in [lo, hi]: 5 % of the span added on each
/// side (in log space for Scale::Log, where only positive data count). A single value v gets
/// v +- 0.05|v| (+-1 for 0, a decade for log). Non-finite input gives [0, 1] (log: [1, 10]).
Range auto_limits(double lo, double hi, Scale scale);

}  // namespace d2l::viz
