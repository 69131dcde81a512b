#pragma once
// Checks of the numeric options of `d2l`'s commands, as CLI11 validators: a value outside an
// option's domain (nan, inf, negative, zero where it means nothing, absurdly large) is refused
// while parsing, with one line naming the option (`d2l: --port: expected ...`) and exit 2.
// An option whose "not given" is a state of its own is held in a std::optional, never as a
// value a user could type.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

namespace d2l::cli {

/// Whether the lower bound of number_in() is a value the option may take.
enum class LowerBound { Included, Excluded };

/// `[lo, hi]` or `(lo, hi]` as text, numbers in %g.
inline std::string range_text(double lo, double hi, LowerBound lower) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s%g, %g]", lower == LowerBound::Included ? "[" : "(", lo, hi);
  return buf;
}

/// A CLI11 check: the option's text must be a finite number in `[lo, hi]` (or `(lo, hi]`);
/// nan, inf and anything outside are refused with `--flag: expected a number in [lo, hi], got
/// 'TEXT'`. For an integer option CLI11 then refuses a fraction while converting. CLI11 names a
/// hidden option (group "") with nothing: give its name as `hidden_flag`.
inline CLI::Validator number_in(double lo, double hi, LowerBound lower = LowerBound::Included,
                                const std::string& hidden_flag = {}) {
  const std::string range = range_text(lo, hi, lower);
  const std::string prefix = hidden_flag.empty() ? "" : hidden_flag + ": ";
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        const bool parsed = !text.empty() && end == text.c_str() + text.size();
        const bool above_lo = lower == LowerBound::Included ? v >= lo : v > lo;
        if (parsed && std::isfinite(v) && above_lo && v <= hi) return {};
        return prefix + "expected a number in " + range + ", got '" + text + "'";
      },
      "in " + range, "number_in");
}

/// number_in() for an option that must be more than zero: `(0, hi]`.
inline CLI::Validator positive_up_to(double hi) { return number_in(0, hi, LowerBound::Excluded); }

/// A CLI11 check that hands the option's text to `parse` (a callable taking the text that throws
/// a std::exception, e.g. d2l::bad_input, on bad text), so a bad value is refused while parsing
/// with one line naming the option: `--idle: duration '0': must be more than zero`.
template <class Parse>
CLI::Validator parsed_by(Parse parse, const std::string& description) {
  return CLI::Validator(
      [parse](std::string& text) -> std::string {
        try {
          parse(text);
          return {};
        } catch (const std::exception& e) {
          return e.what();
        }
      },
      description, "parsed_by");
}

/// A CLI11 check for an option whose "not given" means a default (a folder, a file, a name): an
/// empty value would silently mean the same, so it is refused (`expected a value, got ''`).
/// `hidden_flag` as for number_in().
inline CLI::Validator non_empty(const std::string& hidden_flag = {}) {
  const std::string prefix = hidden_flag.empty() ? "" : hidden_flag + ": ";
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        return text.empty() ? prefix + "expected a value, got ''" : std::string();
      },
      "", "non_empty");
}

/// The largest TCP port.
constexpr double kMaxPort = 65535;
/// One day in seconds: the longest wait or interval any command accepts.
constexpr double kDaySeconds = 86400;

}  // namespace d2l::cli
