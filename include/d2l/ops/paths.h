#pragma once
/// \file d2l/ops/paths.h
/// Where the ops tools (`d2l cost`, `d2l notebook`, `d2l autostop`) keep their files, and the
/// small parsers they share (durations like `8h`, `90m`, `2d`).
#include <string>

namespace d2l::ops {

/// The folder for d2l's own configuration and state: `$D2L_CONFIG_DIR`, else
/// `$XDG_CONFIG_HOME/d2l`, else `$HOME/.config/d2l`. Not created.
std::string config_dir();

/// Creates `dir` and its parents when missing (new folders get `mode`). Throws d2l::Error naming
/// the folder when it cannot.
void ensure_dir(const std::string& dir, unsigned mode = 0700);

/// Parses a duration: a number with a unit `s`, `m`, `h`, `d` (e.g. `8h`, `90m`, `2d`, `1h30m`,
/// `1.5h`); a bare number counts as hours. Returns seconds. Throws d2l::bad_input naming `text`
/// when it is not a positive duration.
double parse_duration(const std::string& text);

/// Formats seconds as a short duration for people: `2h 05m`, `45m 10s`, `12s`.
std::string format_duration(double seconds);

/// True when a file exists at `path` (any type).
bool path_exists(const std::string& path);

/// The folder of the running executable (from /proc/self/exe), "" when unknown.
std::string executable_dir();

}  // namespace d2l::ops
