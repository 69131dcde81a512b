#pragma once
/// \file d2l/core/timer.h
/// The book's `Timer`: records the seconds of several runs.
#include <chrono>
#include <vector>

namespace d2l {

/// Records multiple running times, as `d2l.Timer` does. Times are kept as doubles in seconds
/// from a steady clock, so long runs neither overflow nor jump with the wall clock.
class Timer {
 public:
  /// Constructs and starts the timer.
  Timer() { start(); }
  /// (Re)starts the timer.
  void start() { tik_ = Clock::now(); }
  /// Stops the timer, records the time since the last start and returns it in seconds.
  double stop() {
    const double s = std::chrono::duration<double>(Clock::now() - tik_).count();
    times_.push_back(s);
    return s;
  }
  /// Seconds since the last start, without recording.
  double elapsed() const { return std::chrono::duration<double>(Clock::now() - tik_).count(); }
  /// The average recorded time in seconds (0 when none).
  double avg() const { return times_.empty() ? 0.0 : sum() / static_cast<double>(times_.size()); }
  /// The sum of the recorded times in seconds.
  double sum() const {
    double s = 0;
    for (double t : times_) s += t;
    return s;
  }
  /// The running sums of the recorded times.
  std::vector<double> cumsum() const {
    std::vector<double> out;
    out.reserve(times_.size());
    double s = 0;
    for (double t : times_) out.push_back(s += t);
    return out;
  }
  /// All recorded times in seconds.
  const std::vector<double>& times() const { return times_; }

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point tik_;
  std::vector<double> times_;
};

/// Seconds since this process started (from /proc/self/stat; 0 where it cannot be read).
/// An exec keeps the process, so `d2l train` counts from the `d2l` it was started as.
double seconds_since_process_start();

}  // namespace d2l
