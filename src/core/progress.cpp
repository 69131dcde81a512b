#include "d2l/core/progress.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>

namespace d2l {
namespace {
double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

bool is_terminal(std::FILE* stream) {
  if (!stream || !::isatty(::fileno(stream))) return false;
  const char* term = std::getenv("TERM");
  return !(term && std::strcmp(term, "dumb") == 0);
}

ProgressBar::ProgressBar(std::size_t total, std::string label, std::FILE* stream)
    : total_(total),
      label_(std::move(label)),
      stream_(stream),
      active_(is_terminal(stream)),
      start_(now_s()) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(std::size_t done, const std::string& message) {
  if (!active_) return;
  const double t = now_s();
  if (done < total_ && last_draw_ >= 0 && t - last_draw_ < 0.1) return;
  last_draw_ = t;
  constexpr int kWidth = 24;
  const double frac = total_ ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  const int fill = static_cast<int>(frac * kWidth + 0.5);
  std::string bar(static_cast<std::size_t>(fill), '#');
  bar.resize(kWidth, ' ');
  const double elapsed = t - start_;
  std::string eta;
  if (done > 0 && done < total_)
    eta = " ETA " +
          format_duration(elapsed / static_cast<double>(done) * static_cast<double>(total_ - done));
  std::fprintf(stream_, "\r\033[2K%s [%s] %zu/%zu %3d%% %s%s", label_.c_str(), bar.c_str(), done,
               total_, static_cast<int>(frac * 100), message.c_str(), eta.c_str());
  std::fflush(stream_);
  drawn_ = true;
}

void ProgressBar::finish() {
  if (active_ && drawn_) {
    std::fprintf(stream_, "\r\033[2K");
    std::fflush(stream_);
    drawn_ = false;
  }
}

}  // namespace d2l
