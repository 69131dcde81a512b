#include "d2l/viz/animator.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <thread>

#include "d2l/core/error.h"
#include "d2l/viz/terminal_chart.h"
#include "support/images.h"

using d2l::Animator;
using d2l::AnimatorOptions;
using d2l::test::count_occurrences;
using d2l::test::TempDir;

namespace {

// Everything written to a FILE* opened by tmpfile().
std::string contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  return out;
}

AnimatorOptions book_options(const std::string& path, std::FILE* stream) {
  AnimatorOptions o;
  o.xlabel = "epoch";
  o.legend = {"train loss", "train acc", "test acc"};
  o.xlim = d2l::viz::Range{1, 3};
  o.path = path;
  o.stream = stream;
  return o;
}

// train_ch6's five points per epoch, test accuracy at epoch ends.
void feed(Animator& a, int epochs) {
  for (int e = 0; e < epochs; ++e) {
    for (int i = 1; i <= 5; ++i) {
      const double t = e + i / 5.0;
      a.add(t, {0.3 + 2 * std::exp(-t), 0.9 - 0.6 * std::exp(-t), std::nullopt});
    }
    a.add(e + 1.0, {std::nullopt, std::nullopt, 0.85 - 0.5 * std::exp(-(e + 1.0))});
  }
}

}  // namespace

TEST(Animator, MissingValuesAreSkipped) {
  std::FILE* err = std::tmpfile();
  Animator a(book_options("", err));
  feed(a, 3);
  a.add(4.0, {NAN, 0.5, std::nullopt});
  const auto s = a.series();
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].x.size(), 15u);
  EXPECT_EQ(s[1].x.size(), 16u);
  EXPECT_EQ(s[2].x.size(), 3u);
  EXPECT_DOUBLE_EQ(s[2].x[2], 3.0);
  EXPECT_EQ(s[0].label, "train loss");
  EXPECT_EQ(s[1].fmt, "m--");
  EXPECT_EQ(contents(err), "");  // not a terminal, no error: silent
  std::fclose(err);
}

TEST(Animator, EachAddRedrawsTheFile) {
  D2L_NEED_CAIRO();
  TempDir dir;
  std::FILE* err = std::tmpfile();
  const std::string path = dir / "training.png";
  Animator a(book_options(path, err));
  a.add(0.2, {2.0, 0.1, std::nullopt});
  const auto first = d2l::read_file(path);
  EXPECT_EQ(d2l::test::png_header_size(first), (std::pair<long, long>{350, 250}));
  feed(a, 3);
  const auto last = d2l::read_file(path);
  EXPECT_NE(first, last);
  const d2l::viz::Raster img = d2l::viz::read_png(path);
  EXPECT_GT(d2l::test::count_color(img, 0, 128, 0), 10);  // test acc drawn
  EXPECT_EQ(a.last_error(), "");
  // No temporary files are left beside the picture.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(path.substr(0, path.rfind('/'))))
    files += e.is_regular_file();
  EXPECT_EQ(files, 1);
  std::fclose(err);
}

TEST(Animator, UnwritablePathWarnsOnceAndNeverThrows) {
  TempDir dir;
  { std::ofstream(dir / "file") << "x"; }
  std::FILE* err = std::tmpfile();
  Animator a(book_options((dir / "file") + "/training.png", err));
  feed(a, 3);  // add() is noexcept: a failed write becomes one warning and last_error()
  const std::string text = contents(err);
  EXPECT_EQ(count_occurrences(text, "warning"), 1u) << text;
  EXPECT_NE(text.find("training.png"), std::string::npos) << text;
  EXPECT_NE(a.last_error(), "");
  EXPECT_EQ(a.series()[0].x.size(), 15u);  // the data is still kept
  std::fclose(err);
}

TEST(Animator, BadSettingsThrowAtConstruction) {
  EXPECT_THROW(Animator("epoch", "", {}, {}, {}, "linear", "linear", {"q"}), d2l::Error);
  EXPECT_THROW(Animator("epoch", "", {}, {}, {}, "square"), d2l::Error);
  AnimatorOptions o;
  o.path = "chart.gif";
  EXPECT_THROW(Animator{o}, d2l::Error);
}

TEST(Animator, SeveralThreadsAdd) {
  D2L_NEED_CAIRO();
  TempDir dir;
  std::FILE* err = std::tmpfile();
  Animator a(book_options((dir / "t.svg"), err));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) a.add(t + i / 10.0, {1.0 * i, 0.5, std::nullopt});
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(a.series()[0].x.size(), 40u);
  EXPECT_EQ(a.last_error(), "");
  std::fclose(err);
  D2L_EXPECT_WELL_FORMED_XML(dir / "t.svg");
}

TEST(Animator, WithoutCairoWarnsOnce) {
  if (d2l::viz::have_cairo()) GTEST_SKIP() << "built with Cairo";
  TempDir dir;
  std::FILE* err = std::tmpfile();
  Animator a(book_options((dir / "t.png"), err));
  feed(a, 2);  // add() is noexcept: no Cairo becomes one warning, the data is kept
  const std::string text = contents(err);
  EXPECT_EQ(count_occurrences(text, "warning"), 1u);
  EXPECT_NE(text.find("without Cairo"), std::string::npos);
  EXPECT_NE(a.last_error(), "");
  EXPECT_EQ(a.series()[0].x.size(), 10u);
  EXPECT_FALSE(std::filesystem::exists(dir / "t.png"));
  std::fclose(err);
}

TEST(AnimatorTerminal, NothingInAPipe) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::FILE* w = ::fdopen(fds[1], "w");
  {
    d2l::viz::TerminalChart chart(w);
    EXPECT_FALSE(chart.active());
    chart.draw("line\n");
    AnimatorOptions o = book_options("", w);
    Animator a(o);
    EXPECT_FALSE(a.live());
    feed(a, 1);
  }
  std::fclose(w);
  char buf[16];
  EXPECT_EQ(::read(fds[0], buf, sizeof buf), 0);  // EOF, nothing written
  ::close(fds[0]);
}

TEST(AnimatorTerminal, RedrawsInPlaceOnARealTerminal) {
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0)
    GTEST_SKIP() << "no pseudo-terminal";
  const char* term = std::getenv("TERM");
  const std::string saved = term ? term : "";
  ::setenv("TERM", "xterm-256color", 1);
  std::FILE* slave = std::fopen(::ptsname(master), "w");
  ASSERT_NE(slave, nullptr);
  struct winsize ws {};
  ws.ws_col = 100;
  ws.ws_row = 40;
  ::ioctl(::fileno(slave), TIOCSWINSZ, &ws);  // wide enough for the legend on one line
  std::string got;
  std::thread reader([&] {  // drain the master so the slave never blocks
    char buf[4096];
    for (;;) {
      pollfd p{master, POLLIN, 0};
      if (::poll(&p, 1, 500) <= 0) break;
      const ssize_t n = ::read(master, buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
  });
  {
    Animator a(book_options("", slave));
    EXPECT_TRUE(a.live());
    feed(a, 2);
  }
  std::fflush(slave);
  reader.join();
  std::fclose(slave);
  ::close(master);
  if (term)
    ::setenv("TERM", saved.c_str(), 1);
  else
    ::unsetenv("TERM");
  // 8 rows + axis + x range + legend = 11 lines, redrawn by moving up 11 lines.
  EXPECT_GE(count_occurrences(got, "\033[11A"), 5u);
  EXPECT_NE(got.find("test acc"), std::string::npos);
  EXPECT_NE(got.find("\xE2\x94\xA4"), std::string::npos);  // the y axis "┤"
}
