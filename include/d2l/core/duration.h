#pragma once
/// \file d2l/core/duration.h
/// Durations for people: one format for every tool (training epochs, ETAs, idle times, cost
/// estimates) and one parser for flags like `--idle 2h`; and the one way a point in time is
/// written (logs, state files, AWS's time parameters).
#include <ctime>
#include <string>

namespace d2l {

/// Formats seconds compactly: `4.2s` under a minute (one decimal), `3m05s`, `1h02m`, `2d03h`
/// (whole seconds, the smaller unit truncated); a negative duration gets a leading `-`, a
/// non-finite one is `n/a`.
std::string format_duration(double seconds);

/// Parses a duration: numbers with a unit `s`, `m`, `h`, `d` (e.g. `8h`, `90m`, `2d`, `1h30m`,
/// `1.5h`); a bare number counts as hours. Returns seconds. Throws d2l::bad_input naming `text`
/// when it is not a positive duration, or is more than 100 years.
double parse_duration(const std::string& text);

/// A point in time as ISO 8601 in UTC, to the second: `2026-12-01T10:00:00Z` (what AWS's APIs
/// take and what our logs write).
std::string format_utc_time(std::time_t t);

}  // namespace d2l
