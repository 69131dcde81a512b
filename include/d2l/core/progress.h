#pragma once
/// \file d2l/core/progress.h
/// Progress for long work: a bar redrawn in place on a terminal, nothing in a pipe.
#include <cstdio>
#include <string>

#include "d2l/core/duration.h"  // format_duration, for the ETA and its callers

namespace d2l {

/// True when `stream` is a terminal (and TERM is not "dumb").
bool is_terminal(std::FILE* stream);

/// A one-line progress bar on a terminal: `label [#####     ] 120/235 51% msg ETA 3.1s`.
/// When the stream is not a terminal every call is a no-op, so callers print their own
/// plain lines for pipes. Redraws are limited to about 10 per second.
class ProgressBar {
 public:
  /// `total` steps; `label` goes in front. `stream` defaults to stderr.
  ProgressBar(std::size_t total, std::string label, std::FILE* stream = stderr);
  ~ProgressBar();
  /// Sets the number of steps done and the message after the bar; redraws when due.
  void update(std::size_t done, const std::string& message = "");
  /// Clears the bar's line (call before printing a plain line).
  void finish();
  /// Whether this bar draws at all.
  bool active() const { return active_; }

 private:
  std::size_t total_;
  std::string label_;
  std::FILE* stream_;
  bool active_;
  bool drawn_ = false;
  double start_;
  double last_draw_ = -1;
};

}  // namespace d2l
